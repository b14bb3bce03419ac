#include "observe/snapshot_json.hpp"

#include <nlohmann/json.hpp>

namespace brisk::observe {
namespace {

using Json = nlohmann::ordered_json;

// Summary and the non-empty buckets as [lower bound, count] pairs: a
// reader maps a lower bound back to its bucket (metrics::bucket_index).
Json histogram(const metrics::HistogramSnapshot& h) {
  Json buckets = Json::array();
  for (std::size_t i = 0; i < metrics::kBucketCount; ++i) {
    if (const std::uint64_t n = h.bucket_count(i)) buckets.push_back(Json::array({metrics::bucket_lower(i), n}));
  }
  return Json{{"count", h.count()},          {"sum", h.sum()},
              {"max", h.max()},              {"mean", h.mean()},
              {"p50", h.percentile(50)},     {"p90", h.percentile(90)},
              {"p99", h.percentile(99)},     {"p999", h.percentile(99.9)},
              {"buckets", std::move(buckets)}};
}

const char* fsync_name(FsyncPolicy p) {
  switch (p) {
    case FsyncPolicy::always: return "always";
    case FsyncPolicy::interval: return "interval";
    case FsyncPolicy::never: return "never";
  }
  return "?";
}

Json config_json(const EngineConfig& c, std::int64_t credits) {
  const ObservabilityConfig& o = c.observability;
  const DurabilityConfig& d = c.durability;
  return Json{
      {"workers", c.workers},
      {"ring_capacity", c.ring_capacity},
      {"pin_workers", c.pin_workers},
      {"cpus", c.cpus},
      {"priority_lanes", c.priority_lanes},
      {"lane_weights", c.lane_weights},
      {"spin_polls", c.spin_polls},
      {"steal_batch", c.steal_batch},
      {"credits", credits},
      {"credit_chunk", c.credit_chunk},
      {"max_named_tasks", c.max_named_tasks},
      {"max_payload_bytes", c.max_payload_bytes},
      {"dead_letter_capacity", c.dead_letter_capacity},
      {"timer_tick_ns", c.timer_tick.count()},
      {"observability",
       {{"record_latency", o.record_latency},
        {"trace_events_per_worker", o.trace_events_per_worker},
        {"trace_from_start", o.trace_from_start},
        {"metrics_port", o.metrics_port},
        {"debug_endpoints", o.debug_endpoints},
        {"max_trace_seconds", o.max_trace_seconds},
        {"max_trace_bytes", o.max_trace_bytes}}},
      {"durability",
       {{"wal_dir", d.wal_dir},
        {"fsync", fsync_name(d.fsync)},
        {"fsync_interval_ms", d.fsync_interval.count()},
        {"segment_bytes", d.segment_bytes},
        {"durable_by_default", d.durable_by_default}}},
  };
}

Json stats_json(const EngineStats& s) {
  return Json{{"accepted", s.accepted},
              {"rejected_full", s.rejected_full},
              {"rejected_shutdown", s.rejected_shutdown},
              {"rejected_invalid", s.rejected_invalid},
              {"rejected_backpressure", s.rejected_backpressure},
              {"executed", s.executed},
              {"failed", s.failed},
              {"stolen", s.stolen},
              {"parks", s.parks},
              {"queued", s.queued},
              {"overflowed", s.overflowed},
              {"overflow_depth", s.overflow_depth},
              {"overflow_refused", s.overflow_refused},
              {"credits_capacity", s.credits_capacity},
              {"credits_outstanding", s.credits_outstanding},
              {"producer_blocked_ns", s.producer_blocked_ns},
              {"named_in_flight", s.named_in_flight},
              {"pending_timers", s.pending_timers},
              {"dead_letters", s.dead_letters},
              {"dead_letters_dropped", s.dead_letters_dropped},
              {"durability_failures", s.durability_failures},
              {"trace_dropped", s.trace_dropped},
              {"uptime_ns", s.uptime_ns}};
}

Json wal_json(const SnapshotInput& in) {
  const EngineStats& s = *in.stats;
  Json wal{{"records", s.wal_records},  {"bytes", s.wal_bytes},
           {"batches", s.wal_batches},  {"syncs", s.wal_syncs},
           {"largest_batch_bytes", s.wal_largest_batch_bytes},
           {"failed", s.wal_failed},    {"failure", s.wal_failure}};
  wal["fsync_ns"] = histogram(*in.wal_fsync_ns);
  wal["batch_bytes"] = histogram(*in.wal_batch_bytes);
  wal["batch_records"] = histogram(*in.wal_batch_records);
  return wal;
}

}  // namespace

std::string render_snapshot_json(const SnapshotInput& in) {
  const EngineStats& s = *in.stats;
  Json doc{{"brisk_snapshot", kSnapshotVersion}, {"at_ns", in.at_ns}, {"unix_ms", in.unix_ms}};
  doc["config"] = config_json(*in.config, in.credits);
  doc["stats"] = stats_json(s);
  doc["queue_wait_ns"] = histogram(*in.queue_wait);
  doc["run_time_ns"] = histogram(*in.run_time);
  Json lanes = Json::array();
  for (const LaneStats& l : s.lanes) lanes.push_back({{"accepted", l.accepted}, {"queued", l.queued}});
  doc["lanes"] = std::move(lanes);
  Json workers = Json::array();
  for (std::size_t i = 0; i < s.workers.size(); ++i) {
    const WorkerStats& w = s.workers[i];
    Json row{{"index", i},        {"cpu", w.cpu},       {"executed", w.executed},   {"failed", w.failed},
             {"stolen", w.stolen}, {"steal_batches", w.steal_batches}, {"parks", w.parks},
             {"busy_ns", w.busy_ns}, {"parked_ns", w.parked_ns}, {"stranded_yields", w.stranded_yields}};
    if (i < in.worker_tids.size()) row["tid"] = in.worker_tids[i];
    if (i < in.worker_sched.size() && in.worker_sched[i].known) {
      const ThreadSched& t = in.worker_sched[i];
      row["sched"] = {{"run_ns", t.run_ns},
                      {"runnable_wait_ns", t.wait_ns},
                      {"timeslices", t.timeslices},
                      {"voluntary_switches", t.voluntary_switches},
                      {"involuntary_switches", t.involuntary_switches}};
    }
    workers.push_back(std::move(row));
  }
  doc["workers"] = std::move(workers);
  Json types = Json::array();
  for (std::size_t i = 0; i < s.task_types.size(); ++i) {
    const TaskTypeStats& t = s.task_types[i];
    Json row{{"name", t.name},
             {"accepted", t.accepted},
             {"succeeded", t.succeeded},
             {"failed_attempts", t.failed_attempts},
             {"retried", t.retried},
             {"dead_lettered", t.dead_lettered},
             {"cancelled", t.cancelled},
             {"rate_limited", t.rate_limited},
             {"timed_out", t.timed_out},
             {"late_results", t.late_results}};
    if (i < in.type_limits.size()) {
      const TypeLimitView& l = in.type_limits[i];
      row["max_concurrency"] = l.max_concurrency;
      row["rate_per_second"] = l.rate_per_second;
      row["running"] = l.running;
      row["parked_at_limit"] = l.parked;
    }
    types.push_back(std::move(row));
  }
  doc["task_types"] = std::move(types);
  doc["wal"] = in.wal_fsync_ns != nullptr ? wal_json(in) : Json(nullptr);
  doc["trace"] = {{"rings", in.trace_rings}, {"on", in.tracing}, {"dropped", s.trace_dropped}};
  return doc.dump();
}

}  // namespace brisk::observe

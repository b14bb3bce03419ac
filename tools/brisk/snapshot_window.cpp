#include "brisk/snapshot_window.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "metrics/latency_histogram.hpp"

namespace brisk::tools {
namespace {

using Json = nlohmann::json;

std::uint64_t u64(const Json& j, const char* key) { return j.value(key, std::uint64_t{0}); }
std::uint64_t minus(std::uint64_t after, std::uint64_t before) { return after > before ? after - before : 0; }

// Buckets of the window: after's counts minus before's, by lower bound.
LatencySummary window_histogram(const Json& before, const Json& after) {
  std::map<std::uint64_t, std::uint64_t> counts;
  for (const Json& b : after.value("buckets", Json::array())) counts[b[0].get<std::uint64_t>()] += b[1].get<std::uint64_t>();
  for (const Json& b : before.value("buckets", Json::array())) {
    auto it = counts.find(b[0].get<std::uint64_t>());
    if (it != counts.end()) it->second = minus(it->second, b[1].get<std::uint64_t>());
  }
  LatencySummary l;
  for (const auto& [lower, n] : counts) l.count += n;
  const std::uint64_t sum = minus(u64(after, "sum"), u64(before, "sum"));
  l.mean_ns = l.count == 0 ? 0 : static_cast<double>(sum) / static_cast<double>(l.count);
  // Nearest rank, reported as the bucket's midpoint (as HistogramSnapshot does).
  const auto at = [&](double p) -> std::uint64_t {
    if (l.count == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(std::max(1.0, std::ceil(p / 100.0 * static_cast<double>(l.count))));
    std::uint64_t seen = 0;
    for (const auto& [lower, n] : counts) {
      seen += n;
      if (seen >= rank) return lower + metrics::bucket_width(metrics::bucket_index(lower)) / 2;
    }
    return counts.rbegin()->first;
  };
  l.p50_ns = at(50);
  l.p90_ns = at(90);
  l.p99_ns = at(99);
  l.p999_ns = at(99.9);
  for (auto it = counts.rbegin(); it != counts.rend(); ++it) {
    if (it->second != 0) {
      l.max_ns = std::min(u64(after, "max"), it->first + metrics::bucket_width(metrics::bucket_index(it->first)));
      break;
    }
  }
  return l;
}

EngineConfig config_of(const Json& c) {
  EngineConfig config;
  config.workers = c.value("workers", 1u);
  config.ring_capacity = c.value("ring_capacity", config.ring_capacity);
  config.pin_workers = c.value("pin_workers", false);
  config.cpus = c.value("cpus", std::vector<int>{});
  config.priority_lanes = c.value("priority_lanes", config.priority_lanes);
  config.spin_polls = c.value("spin_polls", config.spin_polls);
  config.steal_batch = c.value("steal_batch", config.steal_batch);
  config.credits = c.value("credits", std::int64_t{0});
  config.observability.record_latency =
      c.value("observability", Json::object()).value("record_latency", config.observability.record_latency);
  const Json d = c.value("durability", Json::object());
  config.durability.wal_dir = d.value("wal_dir", "");
  config.durability.segment_bytes = d.value("segment_bytes", config.durability.segment_bytes);
  return config;
}

EngineStats stats_of(const Json& b, const Json& a) {
  EngineStats s;
  const auto d = [&](const char* k) { return minus(u64(a, k), u64(b, k)); };
  s.accepted = d("accepted");
  s.rejected_full = d("rejected_full");
  s.rejected_shutdown = d("rejected_shutdown");
  s.rejected_invalid = d("rejected_invalid");
  s.rejected_backpressure = d("rejected_backpressure");
  s.executed = d("executed");
  s.failed = d("failed");
  s.stolen = d("stolen");
  s.parks = d("parks");
  s.producer_blocked_ns = d("producer_blocked_ns");
  s.trace_dropped = d("trace_dropped");
  s.queued = u64(a, "queued");
  s.credits_capacity = a.value("credits_capacity", std::int64_t{0});
  s.credits_outstanding = a.value("credits_outstanding", std::int64_t{0});
  s.named_in_flight = u64(a, "named_in_flight");
  s.pending_timers = u64(a, "pending_timers");
  s.dead_letters = u64(a, "dead_letters");
  return s;
}

}  // namespace

SnapshotWindow snapshot_window(std::string_view before_json, std::string_view after_json) {
  const Json before = Json::parse(before_json, nullptr, false);
  const Json after = Json::parse(after_json, nullptr, false);
  for (const Json* j : {&before, &after}) {
    if (!j->is_object() || j->value("brisk_snapshot", 0) != 1) {
      throw std::runtime_error("not a brisk snapshot (version 1): " + std::string(j == &before ? "first" : "second"));
    }
  }
  try {
    SnapshotWindow w;
    w.wall_s = static_cast<double>(after["at_ns"].get<std::int64_t>() - before["at_ns"].get<std::int64_t>()) / 1e9;
    w.config = config_of(after["config"]);
    w.stats = stats_of(before["stats"], after["stats"]);
    w.stats.queue_wait = window_histogram(before["queue_wait_ns"], after["queue_wait_ns"]);
    w.stats.run_time = window_histogram(before["run_time_ns"], after["run_time_ns"]);
    for (std::size_t i = 0; i < after["lanes"].size(); ++i) {
      const Json& la = after["lanes"][i];
      const std::uint64_t was = i < before["lanes"].size() ? u64(before["lanes"][i], "accepted") : 0;
      w.stats.lanes.push_back({minus(u64(la, "accepted"), was), u64(la, "queued")});
    }
    for (std::size_t i = 0; i < after["workers"].size(); ++i) {
      const Json& wa = after["workers"][i];
      const Json wb = i < before["workers"].size() ? before["workers"][i] : Json::object();
      const auto d = [&](const char* k) { return minus(u64(wa, k), u64(wb, k)); };
      w.stats.workers.push_back({d("executed"), d("failed"), d("stolen"), d("steal_batches"), d("parks"), d("busy_ns"),
                                 d("parked_ns"), wa.value("cpu", -1), d("stranded_yields")});
      WorkerSched sched;
      if (wa.contains("sched") && wb.contains("sched")) {
        sched.known = true;
        sched.run_ns = minus(u64(wa["sched"], "run_ns"), u64(wb["sched"], "run_ns"));
        sched.runnable_wait_ns = minus(u64(wa["sched"], "runnable_wait_ns"), u64(wb["sched"], "runnable_wait_ns"));
        sched.involuntary_switches =
            minus(u64(wa["sched"], "involuntary_switches"), u64(wb["sched"], "involuntary_switches"));
      }
      w.sched.push_back(sched);
    }
    for (std::size_t i = 0; i < after["task_types"].size(); ++i) {
      const Json& ta = after["task_types"][i];
      const Json tb = i < before["task_types"].size() ? before["task_types"][i] : Json::object();
      const auto d = [&](const char* k) { return minus(u64(ta, k), u64(tb, k)); };
      w.stats.task_types.push_back(TaskTypeStats{ta.value("name", ""), d("accepted"), d("succeeded"),
                                                 d("failed_attempts"), d("retried"), d("dead_lettered"),
                                                 d("cancelled"), d("rate_limited"), d("timed_out"), d("late_results")});
      w.types.push_back({ta.value("name", ""), ta.value("max_concurrency", 0u), ta.value("rate_per_second", 0.0),
                         d("accepted"), d("succeeded"), d("rate_limited"), u64(ta, "parked_at_limit"),
                         u64(ta, "succeeded")});
    }
    if (after["wal"].is_object() && before["wal"].is_object()) {
      const Json& la = after["wal"];
      const Json& lb = before["wal"];
      w.has_log = true;
      w.fsync_policy = after["config"]["durability"].value("fsync", "");
      w.stats.wal_records = minus(u64(la, "records"), u64(lb, "records"));
      w.stats.wal_bytes = minus(u64(la, "bytes"), u64(lb, "bytes"));
      w.stats.wal_batches = minus(u64(la, "batches"), u64(lb, "batches"));
      w.stats.wal_syncs = minus(u64(la, "syncs"), u64(lb, "syncs"));
      w.wal_fsync_ns = window_histogram(lb["fsync_ns"], la["fsync_ns"]);
      w.wal_batch_records = window_histogram(lb["batch_records"], la["batch_records"]);
      w.wal_batch_bytes = window_histogram(lb["batch_bytes"], la["batch_bytes"]);
    }
    return w;
  } catch (const Json::exception& e) {
    throw std::runtime_error(std::string("malformed brisk snapshot: ") + e.what());
  }
}

}  // namespace brisk::tools

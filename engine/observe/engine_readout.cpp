#include "observe/engine_readout.hpp"

#include <chrono>
#include <cstdint>

#include "observe/snapshot_json.hpp"
#include "observe/thread_sched.hpp"

namespace brisk::detail {

EngineStats EngineReadout::stats() const {
  EngineStats s;
  for (std::size_t i = 0; i < in_.shards.size(); ++i) {
    const Shard& shard = in_.shards[i];
    for (std::size_t r = 0; r < shard.rings(); ++r) {  // lanes and the task overflow
      s.accepted += shard.ring(r).tail();
      s.queued += shard.ring(r).size_approx();
    }
  }
  for (std::size_t i = 0; i < in_.workers.size(); ++i) {
    const Worker* worker = &in_.workers[i];
    const auto& c = worker->counters();
    WorkerStats w;
    w.executed = c.executed.load(std::memory_order_relaxed);
    w.failed = c.failed.load(std::memory_order_relaxed);
    w.stolen = c.stolen.load(std::memory_order_relaxed);
    w.steal_batches = c.steal_batches.load(std::memory_order_relaxed);
    w.parks = c.parks.load(std::memory_order_relaxed);
    w.busy_ns = c.busy_ns.load(std::memory_order_relaxed);
    w.parked_ns = c.parked_ns.load(std::memory_order_relaxed);
    w.stranded_yields = c.stranded_yields.load(std::memory_order_relaxed);
    if (const trace::TraceBuffer* t = worker->trace()) s.trace_dropped += t->dropped();
    w.cpu = worker->cpu();
    s.executed += w.executed;
    s.failed += w.failed;
    s.stolen += w.stolen;
    s.parks += w.parks;
    s.workers.push_back(w);
  }
  if (const trace::SideTracks* side = in_.trace_switch.side()) s.trace_dropped += side->dropped();
  const Admission::Refusals refused = in_.admission.refusals();
  s.rejected_full = refused.full;
  s.rejected_shutdown = refused.shutdown;
  s.rejected_invalid = refused.invalid;
  s.overflowed = refused.overflowed;
  s.overflow_refused = refused.overflow_refused;
  s.overflow_depth = in_.shards.overflow_depth();
  s.rejected_backpressure = in_.rejected_backpressure.load(std::memory_order_relaxed);
  s.credits_capacity = in_.credits.capacity();
  s.credits_outstanding = in_.credits.outstanding();
  s.producer_blocked_ns = in_.producer_blocked_ns.load(std::memory_order_relaxed);
  s.pending_timers = in_.delays.pending();
  s.dead_letters = in_.dead_letters.size();
  s.dead_letters_dropped = in_.dead_letters.dropped();
  s.finished_remembered = in_.finished.size();
  s.finished_evicted = in_.finished.evicted();
  s.batches_open = in_.workflows.open_batches();
  s.batch_callbacks_submitted = in_.workflows.callbacks_submitted();
  s.durability_failures = refused.durability_failed;
  if (in_.log) {
    const wal::WalStats w = in_.log->stats();
    s.wal_records = w.records;
    s.wal_bytes = w.bytes;
    s.wal_batches = w.batches;
    s.wal_syncs = w.syncs;
    s.wal_largest_batch_bytes = w.largest_batch_bytes;
    s.wal_failed = in_.log->failed();
    if (s.wal_failed) s.wal_failure = in_.log->failure_message();
  }
  s.uptime_ns = in_.started_ns != 0 ? static_cast<std::uint64_t>(in_.clock.now_ns() - in_.started_ns) : 0;
  for (std::size_t lane = 0; lane < in_.config.priority_lanes; ++lane) {
    LaneStats l;
    for (std::size_t i = 0; i < in_.shards.size(); ++i) {
      l.accepted += in_.shards[i].lane(lane).tail();
      l.queued += in_.shards[i].lane(lane).size_approx();
    }
    s.lanes.push_back(l);
  }
  for (std::uint32_t t = 0; t < in_.registry.size(); ++t) {
    const TaskTypeEntry& e = in_.registry.at(t);
    const auto get = [&e](TaskEvent event) { return e.counters.total(event); };
    s.task_types.push_back(TaskTypeStats{e.name, get(TaskEvent::accepted), get(TaskEvent::succeeded),
                                         get(TaskEvent::failed_attempt), get(TaskEvent::retried),
                                         get(TaskEvent::dead_lettered), get(TaskEvent::cancelled),
                                         get(TaskEvent::rate_limited), get(TaskEvent::timed_out),
                                         get(TaskEvent::late_result)});
  }
  const EngineHistograms h = histograms();
  const auto summarize = [](const metrics::HistogramSnapshot& snap) {
    LatencySummary l;
    l.count = snap.count();
    l.mean_ns = snap.mean();
    l.p50_ns = snap.percentile(50);
    l.p90_ns = snap.percentile(90);
    l.p99_ns = snap.percentile(99);
    l.p999_ns = snap.percentile(99.9);
    l.max_ns = snap.max();
    return l;
  };
  s.queue_wait = summarize(h.queue_wait);
  s.run_time = summarize(h.run_time);
  s.named_in_flight = in_.tasks.in_use();
  return s;
}

EngineHistograms EngineReadout::histograms() const {
  EngineHistograms h;
  for (std::size_t i = 0; i < in_.workers.size(); ++i) {
    h.queue_wait.merge(in_.workers[i].queue_wait());
    h.run_time.merge(in_.workers[i].run_time());
  }
  return h;
}

HealthReport EngineReadout::health() {
  const EngineStats s = stats();
  metrics::HealthSnapshot snap;
  snap.at_ns = static_cast<std::uint64_t>(SteadyClock::instance().now_ns());
  snap.queue_depth = s.queued;
  // A job failed if it threw (closures) or its attempt failed (named tasks).
  std::uint64_t failed_attempts = 0;
  for (const TaskTypeStats& t : s.task_types) failed_attempts += t.failed_attempts;
  snap.failed = s.failed + failed_attempts;
  snap.succeeded = s.executed > snap.failed ? s.executed - snap.failed : 0;
  snap.dlq_size = s.dead_letters;
  snap.workers = in_.config.workers;
  snap.workers_alive = in_.config.workers;  // a stuck worker is replaced, so capacity stays
  std::lock_guard lock(health_mutex_);
  return health_monitor_.observe(snap);
}

std::string EngineReadout::snapshot_json() const {
  observe::SnapshotInput in;
  // Read everything first, then render: the values are as close to one
  // moment as reading live counters without a lock allows.
  const EngineStats s = stats();
  const EngineHistograms h = histograms();
  metrics::HistogramSnapshot fsync, batch_bytes, batch_records;
  if (in_.log) {
    const wal::WalObservations& o = in_.log->observations();
    fsync.merge(o.fsync_ns);
    batch_bytes.merge(o.batch_bytes);
    batch_records.merge(o.batch_records);
    in.wal_fsync_ns = &fsync;
    in.wal_batch_bytes = &batch_bytes;
    in.wal_batch_records = &batch_records;
  }
  for (std::size_t i = 0; i < in_.workers.size() && i < s.workers.size(); ++i) {
    in.worker_tids.push_back(in_.workers[i].tid());
    in.worker_sched.push_back(observe::read_thread_sched(in_.workers[i].tid()));
  }
  for (std::uint32_t t = 0; t < in_.registry.size(); ++t) {
    const TaskTypeEntry& e = in_.registry.at(t);
    observe::TypeLimitView v;
    v.max_concurrency = e.options.max_concurrency;
    v.rate_per_second = e.options.rate_per_second;
    if (e.gate) {
      v.running = e.gate->running();
      v.parked = e.gate->parked();
    }
    in.type_limits.push_back(v);
  }
  in.at_ns = in_.clock.now_ns();
  in.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  in.config = &in_.config;
  in.credits = in_.credits.capacity();
  in.stats = &s;
  in.queue_wait = &h.queue_wait;
  in.run_time = &h.run_time;
  in.trace_rings = in_.config.observability.trace_events_per_worker != 0;
  in.tracing = in_.trace_switch.on();
  return observe::render_snapshot_json(in);
}

}  // namespace brisk::detail

// EngineCore's read side: stats, histograms, Prometheus text, health and
// traces. Everything here reads counters the hot paths write; nothing here
// is on them.
#include <ostream>

#include "core/engine_core.hpp"
#include "trace/chrome_trace.hpp"

namespace brisk::detail {

EngineStats EngineCore::stats() const {
  EngineStats s;
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    const Shard& shard = shards_[i];
    for (std::size_t lane = 0; lane < shard.lanes(); ++lane) {
      s.accepted += shard.lane(lane).tail();
      s.queued += shard.lane(lane).size_approx();
    }
  }
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    const Worker* worker = &workers_[i];
    const auto& c = worker->counters();
    WorkerStats w;
    w.executed = c.executed.load(std::memory_order_relaxed);
    w.failed = c.failed.load(std::memory_order_relaxed);
    w.stolen = c.stolen.load(std::memory_order_relaxed);
    w.steal_batches = c.steal_batches.load(std::memory_order_relaxed);
    w.parks = c.parks.load(std::memory_order_relaxed);
    w.busy_ns = c.busy_ns.load(std::memory_order_relaxed);
    w.parked_ns = c.parked_ns.load(std::memory_order_relaxed);
    if (const trace::TraceBuffer* t = worker->trace()) s.trace_dropped += t->dropped();
    w.cpu = worker->cpu();
    s.executed += w.executed;
    s.failed += w.failed;
    s.stolen += w.stolen;
    s.parks += w.parks;
    s.workers.push_back(w);
  }
  s.rejected_full = rejected_full_.load(std::memory_order_relaxed);
  s.rejected_shutdown = rejected_shutdown_.load(std::memory_order_relaxed);
  s.rejected_invalid = rejected_invalid_.load(std::memory_order_relaxed);
  s.rejected_backpressure = rejected_backpressure_.load(std::memory_order_relaxed);
  s.credits_capacity = credits_.capacity();
  s.credits_outstanding = credits_.outstanding();
  s.producer_blocked_ns = producer_blocked_ns_.load(std::memory_order_relaxed);
  s.pending_timers = delays_.pending();
  s.dead_letters = dead_letters_.size();
  s.dead_letters_dropped = dead_letters_.dropped();
  s.finished_remembered = finished_.size();
  s.finished_evicted = finished_.evicted();
  s.batches_open = workflows_.open_batches();
  s.batch_callbacks_submitted = workflows_.callbacks_submitted();
  s.durability_failures = durability_failures_.load(std::memory_order_relaxed);
  if (wal_) {
    const wal::WalStats w = wal_->stats();
    s.wal_records = w.records;
    s.wal_bytes = w.bytes;
    s.wal_batches = w.batches;
    s.wal_syncs = w.syncs;
    s.wal_largest_batch_bytes = w.largest_batch_bytes;
    s.wal_failed = wal_->failed();
    if (s.wal_failed) s.wal_failure = wal_->failure_message();
  }
  s.uptime_ns = started_ns_ != 0 ? static_cast<std::uint64_t>(now_ns() - started_ns_) : 0;
  for (std::size_t lane = 0; lane < config_.priority_lanes; ++lane) {
    LaneStats l;
    for (std::size_t i = 0; i < shards_.size(); ++i) {
      l.accepted += shards_[i].lane(lane).tail();
      l.queued += shards_[i].lane(lane).size_approx();
    }
    s.lanes.push_back(l);
  }
  for (std::uint32_t t = 0; t < registry_.size(); ++t) {
    const TaskTypeEntry& e = registry_.at(t);
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
  s.named_in_flight = tasks_.in_use();
  return s;
}

EngineHistograms EngineCore::histograms() const {
  EngineHistograms h;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    h.queue_wait.merge(workers_[i].queue_wait());
    h.run_time.merge(workers_[i].run_time());
  }
  return h;
}

std::string EngineCore::prometheus_text() const { return render_prometheus(stats(), histograms()); }

HealthReport EngineCore::health() {
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
  snap.workers = config_.workers;
  snap.workers_alive = config_.workers;  // a stuck worker is replaced, so capacity stays
  std::lock_guard lock(health_mutex_);
  return health_monitor_.observe(snap);
}

std::size_t EngineCore::write_trace(std::ostream& out) {
  std::vector<trace::TraceEvent> events;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    if (trace::TraceBuffer* t = workers_[i].trace()) t->drain(events);
  }
  trace::ChromeTraceOptions options;
  write_chrome_trace(out, events, options);
  return events.size();
}

}  // namespace brisk::detail

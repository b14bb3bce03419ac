// EngineCore's read side: stats, histograms, Prometheus text, health and
// traces. Everything here reads counters the hot paths write; nothing here
// is on them.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ostream>
#include <sstream>

#include "core/engine_core.hpp"
#include "observe/snapshot_json.hpp"
#include "observe/thread_sched.hpp"
#include "trace/chrome_trace.hpp"

namespace brisk::detail {

EngineStats EngineCore::stats() const {
  EngineStats s;
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    const Shard& shard = shards_[i];
    for (std::size_t r = 0; r < shard.rings(); ++r) {  // lanes and the task overflow
      s.accepted += shard.ring(r).tail();
      s.queued += shard.ring(r).size_approx();
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
  if (const trace::SideTracks* side = trace_switch_.side()) s.trace_dropped += side->dropped();
  const Admission::Refusals refused = admission_.refusals();
  s.rejected_full = refused.full;
  s.rejected_shutdown = refused.shutdown;
  s.rejected_invalid = refused.invalid;
  s.overflowed = refused.overflowed;
  s.overflow_refused = refused.overflow_refused;
  s.overflow_depth = shards_.overflow_depth();
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
  s.durability_failures = refused.durability_failed;
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

std::string EngineCore::prometheus_text() const {
  std::string text = render_prometheus(stats(), histograms());
  metrics_sources_.render(text);
  return text;
}

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

std::size_t EngineCore::write_trace(std::ostream& out, std::size_t max_events, std::size_t* left_out) {
  std::vector<trace::TraceEvent> events;
  trace::SideTracks::Dropped side_dropped;
  {
    std::lock_guard lock(trace_drain_mutex_);
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      if (trace::TraceBuffer* t = workers_[i].trace()) t->drain(events);
    }
    if (trace::SideTracks* side = trace_switch_.side()) side_dropped = side->drain(events);  // log writer, refusals
  }
  std::size_t dropped = 0;
  if (events.size() > max_events) {  // keep the earliest: the session's start
    std::stable_sort(events.begin(), events.end(),
                     [](const trace::TraceEvent& a, const trace::TraceEvent& b) { return a.ts_ns < b.ts_ns; });
    dropped = events.size() - max_events;
    events.resize(max_events);
  }
  if (left_out != nullptr) *left_out = dropped;
  trace::ChromeTraceOptions options;
  options.refusals_dropped = side_dropped.refusals;
  options.log_writer_dropped = side_dropped.log_writer;
  write_chrome_trace(out, events, options);
  return events.size();
}

TraceStart EngineCore::start_trace(const TraceLimits& limits) {
  if (config_.observability.trace_events_per_worker == 0) return TraceStart::not_configured;
  {
    std::lock_guard lock(lifecycle_mutex_);
    if (phase_ != Phase::running) return TraceStart::not_running;
  }
  if (trace_switch_.on()) return TraceStart::already_tracing;
  {
    // A new session starts with empty rings: what an earlier one left behind
    // (or a worker wrote as the switch went off) is not part of it.
    std::lock_guard lock(trace_drain_mutex_);
    std::vector<trace::TraceEvent> stale;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      if (trace::TraceBuffer* t = workers_[i].trace()) t->drain(stale);
    }
    if (trace::SideTracks* side = trace_switch_.side()) side->drain(stale);
  }
  const std::int64_t now = now_ns();
  const std::int64_t duration = std::max<std::int64_t>(limits.duration.count(), 0);
  const std::int64_t until = duration > INT64_MAX - now ? INT64_MAX : now + duration;
  return trace_switch_.turn_on(until, limits.max_events) == trace::TraceSwitch::Turned::on
             ? TraceStart::started
             : TraceStart::already_tracing;
}

std::string EngineCore::snapshot_json() const {
  observe::SnapshotInput in;
  // Read everything first, then render: the values are as close to one
  // moment as reading live counters without a lock allows.
  const EngineStats s = stats();
  const EngineHistograms h = histograms();
  metrics::HistogramSnapshot fsync, batch_bytes, batch_records;
  if (wal_) {
    const wal::WalObservations& o = wal_->observations();
    fsync.merge(o.fsync_ns);
    batch_bytes.merge(o.batch_bytes);
    batch_records.merge(o.batch_records);
    in.wal_fsync_ns = &fsync;
    in.wal_batch_bytes = &batch_bytes;
    in.wal_batch_records = &batch_records;
  }
  for (std::size_t i = 0; i < workers_.size() && i < s.workers.size(); ++i) {
    in.worker_tids.push_back(workers_[i].tid());
    in.worker_sched.push_back(observe::read_thread_sched(workers_[i].tid()));
  }
  for (std::uint32_t t = 0; t < registry_.size(); ++t) {
    const TaskTypeEntry& e = registry_.at(t);
    observe::TypeLimitView v;
    v.max_concurrency = e.options.max_concurrency;
    v.rate_per_second = e.options.rate_per_second;
    if (e.gate) {
      v.running = e.gate->running();
      v.parked = e.gate->parked();
    }
    in.type_limits.push_back(v);
  }
  in.at_ns = now_ns();
  in.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  in.config = &config_;
  in.credits = credits_.capacity();
  in.stats = &s;
  in.queue_wait = &h.queue_wait;
  in.run_time = &h.run_time;
  in.trace_rings = config_.observability.trace_events_per_worker != 0;
  in.tracing = trace_switch_.on();
  return observe::render_snapshot_json(in);
}

http::DebugHooks EngineCore::debug_hooks() {
  http::DebugHooks hooks;
  hooks.snapshot = [this] { return snapshot_json(); };
  hooks.start_trace = [this](const TraceLimits& limits) { return start_trace(limits); };
  hooks.stop_trace = [this] { stop_trace(); };
  hooks.take_trace = [this](std::size_t max_events, std::size_t* left_out) {
    std::ostringstream out;
    write_trace(out, max_events, left_out);
    return std::move(out).str();
  };
  const ObservabilityConfig& o = config_.observability;
  hooks.token = o.debug_token;
  hooks.max_seconds = o.max_trace_seconds;
  hooks.max_bytes = o.max_trace_bytes;
  return hooks;
}

}  // namespace brisk::detail

#include "brisk/profile_model.hpp"

#include <algorithm>
#include <numeric>

namespace brisk::tools {

namespace {

LatencySummary summarize(const std::vector<std::uint64_t>& sorted) {
  LatencySummary l;
  l.count = sorted.size();
  if (sorted.empty()) return l;
  l.mean_ns = static_cast<double>(std::accumulate(sorted.begin(), sorted.end(), std::uint64_t{0})) /
              static_cast<double>(sorted.size());
  l.p50_ns = sorted_percentile(sorted, 50);
  l.p90_ns = sorted_percentile(sorted, 90);
  l.p99_ns = sorted_percentile(sorted, 99);
  l.p999_ns = sorted_percentile(sorted, 99.9);
  l.max_ns = sorted.back();
  return l;
}

std::vector<double> shares(const std::vector<std::uint64_t>& counts) {
  const double total = static_cast<double>(std::accumulate(counts.begin(), counts.end(), std::uint64_t{0}));
  std::vector<double> out;
  for (const std::uint64_t c : counts) out.push_back(total > 0 ? static_cast<double>(c) / total : 0);
  return out;
}

// The trace knows which shard every traced job came from; without it, assume
// stolen jobs left shards in proportion to what their owners ran themselves.
void set_shard_share(Profile& p) {
  std::uint64_t traced = 0;
  if (p.trace) traced = std::accumulate(p.trace->origin_shard_jobs.begin(), p.trace->origin_shard_jobs.end(), traced);
  p.shard_share_exact = traced > 0;
  if (p.shard_share_exact) {
    p.shard_share = shares(p.trace->origin_shard_jobs);
    return;
  }
  std::vector<std::uint64_t> own;
  for (const WorkerRow& w : p.workers) own.push_back(w.executed - std::min(w.stolen, w.executed));
  p.shard_share = shares(own);
}

// The host's share of the workers, the types' own limits and the log.
void measure_window(const SnapshotWindow& w, Measurements& m) {
  double wait_ns = 0, switches = 0, known = 0;
  for (const WorkerSched& s : w.sched) {
    if (!s.known) continue;
    wait_ns += static_cast<double>(s.runnable_wait_ns);
    switches += static_cast<double>(s.involuntary_switches);
    ++known;
  }
  if (known > 0 && w.wall_s > 0) {
    m.runnable_wait_fraction = wait_ns / (known * w.wall_s * 1e9);
    m.involuntary_per_worker_s = switches / known / w.wall_s;
  }
  for (const TypeLimitRow& t : w.types) {
    if (t.max_concurrency == 0 && t.rate_per_second == 0) continue;
    m.type_limits.push_back({t.name, static_cast<double>(t.max_concurrency), t.rate_per_second,
                             static_cast<double>(t.accepted), static_cast<double>(t.rate_limited),
                             static_cast<double>(t.parked_at_limit)});
  }
  if (w.has_log && w.wal_fsync_ns.count > 0) {
    m.fsync_always = w.fsync_policy == "always" ? 1 : 0;
    m.wal_fsync_p99_ns = static_cast<double>(w.wal_fsync_ns.p99_ns);
    m.wal_batch_records_p50 = static_cast<double>(w.wal_batch_records.p50_ns);  // a count, in the ns-named field
  }
}

}  // namespace

Profile profile_from_run(WorkloadRun run, std::optional<TraceAnalysis> trace, unsigned producers) {
  Profile p;
  p.source = "workload";
  p.wall_s = run.wall_s;
  p.producers = producers;
  for (const WorkerStats& w : run.stats.workers) {
    p.workers.push_back({w.cpu, w.executed, w.stolen, w.steal_batches, w.parks, w.busy_ns, w.parked_ns,
                         w.stranded_yields});
  }
  // The histograms saw every job; a trace may have dropped some.
  p.queue_wait = run.stats.queue_wait;
  p.run_time = run.stats.run_time;
  if (!run.snapshot_before.empty() && !run.snapshot_after.empty()) {
    p.window = snapshot_window(run.snapshot_before, run.snapshot_after);
  }
  p.run = std::move(run);
  p.trace = std::move(trace);
  set_shard_share(p);
  return p;
}

Profile profile_from_trace(TraceAnalysis trace, std::string source) {
  Profile p;
  p.source = std::move(source);
  p.wall_s = static_cast<double>(trace.span_ns) / 1e9;
  for (const TraceWorker& w : trace.workers) {
    p.workers.push_back({-1, w.jobs, w.stolen_jobs, w.steals, w.parks, w.busy_ns, w.parked_ns});
  }
  p.queue_wait = summarize(trace.queue_wait_ns);
  p.run_time = summarize(trace.run_ns);
  p.trace = std::move(trace);
  set_shard_share(p);
  return p;
}

Measurements measure(const Profile& p) {
  Measurements m;
  WorkerRow sum;
  for (const WorkerRow& w : p.workers) {
    sum.executed += w.executed;
    sum.stolen += w.stolen;
    sum.steals += w.steals;
    sum.parks += w.parks;
    sum.busy_ns += w.busy_ns;
    sum.stranded_yields += w.stranded_yields;
  }
  const double workers = static_cast<double>(p.workers.size());
  m.wall_s = p.wall_s;
  m.workers = workers;
  m.executed = static_cast<double>(sum.executed);
  m.queue_wait_p50_ns = static_cast<double>(p.queue_wait.p50_ns);
  m.queue_wait_p99_ns = static_cast<double>(p.queue_wait.p99_ns);
  m.run_time_p50_ns = static_cast<double>(p.run_time.p50_ns);
  m.run_time_mean_ns = p.run_time.mean_ns;
  if (workers > 0 && p.wall_s > 0) {
    m.busy_fraction = static_cast<double>(sum.busy_ns) / (workers * p.wall_s * 1e9);
    m.parks_per_worker_s = static_cast<double>(sum.parks) / workers / p.wall_s;
  }
  if (sum.executed > 0) m.steal_fraction = static_cast<double>(sum.stolen) / static_cast<double>(sum.executed);
  if (sum.steals > 0) m.jobs_per_steal = static_cast<double>(sum.stolen) / static_cast<double>(sum.steals);
  if (!p.shard_share.empty()) {
    const auto top = std::max_element(p.shard_share.begin(), p.shard_share.end());
    m.top_shard_share = *top;
    m.top_shard = static_cast<int>(top - p.shard_share.begin());
  }
  if (p.run) {
    const EngineStats& s = p.run->stats;
    m.offered = static_cast<double>(p.run->offered);
    m.rejected_full = static_cast<double>(s.rejected_full);
    m.rejected_backpressure = static_cast<double>(s.rejected_backpressure);
    if (p.producers > 0 && p.wall_s > 0) {
      m.producer_blocked_fraction = static_cast<double>(s.producer_blocked_ns) / (p.producers * p.wall_s * 1e9);
    }
    m.trace_dropped = static_cast<double>(s.trace_dropped);
    if (workers > 0 && p.wall_s > 0) {
      m.stranded_yields_per_worker_s = static_cast<double>(sum.stranded_yields) / workers / p.wall_s;
    }
    m.spin_polls = p.run->config.spin_polls;
    m.steal_batch = p.run->config.steal_batch;
    m.ring_capacity = static_cast<double>(p.run->config.ring_capacity);
    m.trace_events_per_worker = static_cast<double>(p.run->config.observability.trace_events_per_worker);
    m.credits = static_cast<double>(s.credits_capacity);
  }
  if (p.window) measure_window(*p.window, m);
  return m;
}

}  // namespace brisk::tools

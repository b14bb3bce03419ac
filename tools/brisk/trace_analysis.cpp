#include "brisk/trace_analysis.hpp"

#include <algorithm>
#include <unordered_map>

#include "trace/chrome_trace.hpp"

namespace brisk::tools {

namespace {

using trace::TraceEvent;
using trace::TraceKind;

// Where a worker is in its event stream.
struct WorkerCursor {
  std::uint64_t last_end = 0;    // ts of the last E
  std::uint64_t open_start = 0;  // ts of the B not yet ended
  bool open = false;
  int steal_victim = -1;         // a steal since the last E: the next batch came from it
  std::uint16_t batch_origin = 0;
  bool batch_stolen = false;
  std::uint64_t park_ts = 0;
  bool parked = false;
  bool just_woke = false;
};

void add_series(TraceAnalysis& a, std::span<const TraceEvent> sorted, std::uint64_t origin, std::uint64_t bucket_ns) {
  const std::size_t buckets = static_cast<std::size_t>(a.span_ns / bucket_ns) + 1;
  std::vector<std::uint64_t> ends(buckets, 0);
  std::vector<std::int64_t> depth_delta(buckets, 0);
  for (const TraceEvent& e : sorted) {
    const std::size_t b = static_cast<std::size_t>((e.ts_ns - origin) / bucket_ns);
    if (e.kind == TraceKind::kEnd) ++ends[b];
    if (e.kind == TraceKind::kSubmit) ++depth_delta[b];
    if (e.kind == TraceKind::kStart) --depth_delta[b];
  }
  std::int64_t depth = 0;
  for (std::size_t b = 0; b < buckets; ++b) {
    depth += depth_delta[b];
    a.series.push_back({static_cast<double>((b + 1) * bucket_ns) / 1e9,
                        static_cast<double>(ends[b]) * 1e9 / static_cast<double>(bucket_ns),
                        static_cast<std::uint64_t>(std::max<std::int64_t>(depth, 0))});
  }
}

// Refusals by reason; the log writer's slices (each begun by a batch or an
// fsync and ended by the next kLogEnd).
void add_side_tracks(TraceAnalysis& a, std::span<const TraceEvent> sorted) {
  const TraceEvent* open = nullptr;
  for (const TraceEvent& e : sorted) {
    if (e.kind == TraceKind::kRefused) a.refused[std::string(trace::refusal_reason(e.arg))] += e.task_id;
    if (e.worker != trace::kLogWriter) continue;
    if (e.kind == TraceKind::kLogBatch) {
      ++a.log_batches;
      a.log_bytes += e.task_id;
      a.log_records += e.arg;
    }
    if (e.kind == TraceKind::kLogEnd && open != nullptr && open->kind == TraceKind::kFsync) {
      a.fsync_ns.push_back(e.ts_ns - open->ts_ns);
    }
    open = e.kind == TraceKind::kLogEnd ? nullptr : &e;
  }
  std::sort(a.fsync_ns.begin(), a.fsync_ns.end());
}

}  // namespace

TraceAnalysis analyze_trace(std::span<const TraceEvent> events, std::uint64_t bucket_ns) {
  TraceAnalysis a;
  a.events = events.size();
  if (events.empty()) return a;
  // Submits are not recorded: each start carries its wait (chrome_trace.hpp).
  std::vector<TraceEvent> sorted = trace::with_derived_submits(events);
  // Stable: a worker's events with equal timestamps keep their recording order.
  std::stable_sort(sorted.begin(), sorted.end(), [](const TraceEvent& x, const TraceEvent& y) { return x.ts_ns < y.ts_ns; });
  const std::uint64_t origin = sorted.front().ts_ns;
  a.span_ns = sorted.back().ts_ns - origin;

  std::size_t worker_count = 0;
  for (const TraceEvent& e : sorted) {
    if (e.worker < trace::kLogWriter) worker_count = std::max<std::size_t>(worker_count, e.worker + 1u);
  }
  add_side_tracks(a, sorted);
  a.workers.resize(worker_count);
  a.origin_shard_jobs.resize(worker_count);
  std::vector<WorkerCursor> cursors(worker_count);
  std::unordered_map<std::uint64_t, std::uint64_t> submitted;  // task -> submit ts

  for (const TraceEvent& e : sorted) {
    if (e.kind == TraceKind::kSubmit) {
      submitted[e.task_id] = e.ts_ns;
      continue;
    }
    if (e.worker >= trace::kLogWriter) continue;  // producers, log writer: add_side_tracks
    TraceWorker& w = a.workers[e.worker];
    WorkerCursor& c = cursors[e.worker];
    switch (e.kind) {
      case TraceKind::kStart: {
        ++w.jobs;
        // Jobs of one batch run back to back: a job's start is the previous
        // job's end, to the nanosecond. Any gap means a new claim, which came
        // from a victim if a steal was recorded since the last job.
        if (!(w.jobs > 1 && e.ts_ns == c.last_end)) {
          c.batch_stolen = c.steal_victim >= 0 && static_cast<std::size_t>(c.steal_victim) < worker_count;
          c.batch_origin = c.batch_stolen ? static_cast<std::uint16_t>(c.steal_victim) : e.worker;
          c.steal_victim = -1;
        }
        ++a.origin_shard_jobs[c.batch_origin];
        if (c.batch_stolen) ++w.stolen_jobs;
        if (const auto it = submitted.find(e.task_id); it != submitted.end()) {
          const std::uint64_t wait = e.ts_ns > it->second ? e.ts_ns - it->second : 0;
          a.queue_wait_ns.push_back(wait);
          if (c.just_woke) a.wake_wait_ns.push_back(wait);
          submitted.erase(it);
        }
        c.just_woke = false;
        c.open = true;
        c.open_start = e.ts_ns;
        break;
      }
      case TraceKind::kEnd:
        if (c.open) {
          a.run_ns.push_back(e.ts_ns - c.open_start);
          w.busy_ns += e.ts_ns - c.open_start;
          c.open = false;
        }
        c.last_end = e.ts_ns;
        break;
      case TraceKind::kSteal:
        ++w.steals;
        c.steal_victim = static_cast<int>(e.arg);
        break;
      case TraceKind::kPark:
        ++w.parks;
        c.parked = true;
        c.park_ts = e.ts_ns;
        break;
      case TraceKind::kUnpark:
        if (c.parked) w.parked_ns += e.ts_ns - c.park_ts;
        c.parked = false;
        c.just_woke = true;
        break;
      default:
        break;
    }
  }
  std::sort(a.queue_wait_ns.begin(), a.queue_wait_ns.end());
  std::sort(a.run_ns.begin(), a.run_ns.end());
  std::sort(a.wake_wait_ns.begin(), a.wake_wait_ns.end());
  add_series(a, sorted, origin, bucket_ns);
  return a;
}

std::uint64_t sorted_percentile(const std::vector<std::uint64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()) + 0.999999);
  return sorted[std::min(std::max<std::size_t>(rank, 1), sorted.size()) - 1];
}

}  // namespace brisk::tools

// What a task-lifecycle trace says about a run: per-job queue wait and run
// time, per-worker busy/parked time and steals, which shard each job came
// from, and completions and depth over time.
//
// Works from TraceEvents alone (a live run's trace read back, or a recorded
// file), so `brisk profile --trace-in` reports what a workload run reports,
// minus the counters only stats() has.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "trace/trace_buffer.hpp"

namespace brisk::tools {

struct TraceWorker {
  std::uint64_t jobs = 0;
  std::uint64_t stolen_jobs = 0;  // jobs in batches that followed a steal
  std::uint64_t steals = 0;
  std::uint64_t parks = 0;
  std::uint64_t busy_ns = 0;    // inside B..E spans
  std::uint64_t parked_ns = 0;  // between park and unpark
};

struct TracePoint {
  double t_s = 0;            // since the first event
  double completions_per_s = 0;
  std::uint64_t depth = 0;   // traced jobs submitted and not yet started
};

struct TraceAnalysis {
  std::uint64_t events = 0;
  std::uint64_t span_ns = 0;  // first to last event
  std::vector<TraceWorker> workers;            // by worker index
  std::vector<std::uint64_t> origin_shard_jobs;  // jobs by the shard they were pushed to
  // Sorted samples, nanoseconds.
  std::vector<std::uint64_t> queue_wait_ns, run_ns;
  // Queue wait of the first job a worker ran after waking from a park: the
  // cost of parking as producers see it.
  std::vector<std::uint64_t> wake_wait_ns;
  std::vector<TracePoint> series;
  // The side tracks. Submissions refused, by reason ("rejected_full"...).
  std::map<std::string, std::uint64_t> refused;
  // The log writer's group-commit writes and fdatasyncs (sorted durations, ns).
  std::uint64_t log_batches = 0, log_records = 0, log_bytes = 0;
  std::vector<std::uint64_t> fsync_ns;
};

// bucket_ns: width of a series point.
TraceAnalysis analyze_trace(std::span<const trace::TraceEvent> events, std::uint64_t bucket_ns);

// Nearest-rank percentile of sorted samples (0 when empty).
std::uint64_t sorted_percentile(const std::vector<std::uint64_t>& sorted, double p);

}  // namespace brisk::tools

// One picture of a profiled run, whichever way it was obtained: a workload
// run (stats() counters, samples, and usually a trace) or a recorded trace
// alone. The report, the JSON, the plots and the advice all read this.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "brisk/profile_workload.hpp"
#include "brisk/snapshot_window.hpp"
#include "brisk/stats.hpp"
#include "brisk/trace_analysis.hpp"
#include "brisk/tuning_advice.hpp"

namespace brisk::tools {

struct WorkerRow {
  int cpu = -1;
  std::uint64_t executed = 0, stolen = 0, steals = 0, parks = 0;
  std::uint64_t busy_ns = 0, parked_ns = 0;
  std::uint64_t stranded_yields = 0;  // 0 from a trace (it does not record them)
};

struct Profile {
  std::string source;  // "workload" or the trace file
  double wall_s = 0;
  unsigned producers = 0;  // 0 when unknown
  std::vector<WorkerRow> workers;
  LatencySummary queue_wait, run_time;
  // Share of jobs pushed to each shard; from the trace when there is one
  // (exact), otherwise estimated from each worker's own-shard jobs.
  std::vector<double> shard_share;
  bool shard_share_exact = false;
  std::optional<WorkloadRun> run;      // absent for a recorded trace
  std::optional<TraceAnalysis> trace;  // absent when tracing was off
  std::optional<SnapshotWindow> window;  // from the run's two snapshots, when it has them
};

Profile profile_from_run(WorkloadRun run, std::optional<TraceAnalysis> trace, unsigned producers);
Profile profile_from_trace(TraceAnalysis trace, std::string source);

// The numbers the advice rules read.
Measurements measure(const Profile& profile);

}  // namespace brisk::tools

// The workload `brisk profile` runs: producer threads offering closures and
// named tasks of a given size, priority mix and failure rate, at a fixed
// rate or as fast as the engine accepts, while a sampler records stats()
// over time and every worker traces its task lifecycle.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "brisk/config.hpp"
#include "brisk/profile_command.hpp"
#include "brisk/stats.hpp"

namespace brisk::tools {

struct StatsSample {
  double t_s = 0;  // since the producers started
  std::uint64_t executed = 0;
  std::uint64_t queued = 0;
  std::int64_t credits_outstanding = 0;
};

struct WorkloadRun {
  EngineConfig config;
  EngineStats stats;  // after drain
  std::vector<StatsSample> samples;
  std::string trace_json;  // Engine::write_trace; empty when tracing was off
  double wall_s = 0;       // producers' start to the end of drain
  std::uint64_t offered = 0;  // submission attempts, refused ones included
  // Engine::snapshot_json() as the producers started and after the drain
  // (or as fetched by --attach): scheduler, per-type limit and log numbers.
  std::string snapshot_before, snapshot_after;
};

// Throws ConfigError for an engine setting the engine refuses, and
// std::invalid_argument for a malformed priority mix.
WorkloadRun run_workload(const ProfileOptions& options);

}  // namespace brisk::tools

// What happened between two engine snapshots (Engine::snapshot_json, or
// GET /debug/brisk/snapshot): counters as differences, histograms as the
// difference of their buckets, so percentiles describe the window alone.
// Both `brisk profile` paths read it: the workload run takes a snapshot
// before and after, `--attach` fetches them from a live engine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "brisk/config.hpp"
#include "brisk/stats.hpp"

namespace brisk::tools {

struct WorkerSched {  // one worker's scheduler counts over the window
  bool known = false;
  std::uint64_t run_ns = 0;            // on a CPU
  std::uint64_t runnable_wait_ns = 0;  // runnable, waiting for a CPU
  std::uint64_t involuntary_switches = 0;
};

struct TypeLimitRow {  // one task type's own limits and what they did
  std::string name;
  std::uint32_t max_concurrency = 0;
  double rate_per_second = 0;
  std::uint64_t accepted = 0, succeeded = 0, rate_limited = 0;  // over the window
  std::uint64_t parked_at_limit = 0;  // at the end: tasks waiting for a concurrency slot
  std::uint64_t succeeded_total = 0;  // at the end: since the engine started
};

struct SnapshotWindow {
  double wall_s = 0;
  EngineConfig config;  // the fields a report and the advice read
  EngineStats stats;    // differences; gauges (queued, credits, in flight) as at the end
  std::vector<WorkerSched> sched;
  std::vector<TypeLimitRow> types;
  bool has_log = false;
  std::string fsync_policy;
  LatencySummary wal_fsync_ns, wal_batch_records, wal_batch_bytes;
};

// Throws std::runtime_error naming what is missing from a snapshot.
SnapshotWindow snapshot_window(std::string_view before_json, std::string_view after_json);

}  // namespace brisk::tools

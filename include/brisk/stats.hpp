// A point-in-time snapshot of engine counters, merged from per-worker
// counters on read (workers never share a counter on the hot path).
#pragma once

#include <cstdint>
#include <vector>

namespace brisk {

struct WorkerStats {
  std::uint64_t executed = 0;  // jobs run (posted closures and named attempts)
  std::uint64_t failed = 0;    // jobs whose callable threw
  std::uint64_t stolen = 0;    // jobs taken from another worker's shard
  std::uint64_t steal_batches = 0;
  std::uint64_t parks = 0;     // times the worker slept on its futex
  int cpu = -1;                // pinned CPU, -1 when not pinned
};

struct EngineStats {
  std::uint64_t accepted = 0;         // submissions accepted into the rings
  std::uint64_t rejected_full = 0;
  std::uint64_t rejected_shutdown = 0;
  std::uint64_t rejected_invalid = 0;
  std::uint64_t executed = 0;
  std::uint64_t failed = 0;
  std::uint64_t stolen = 0;
  std::uint64_t parks = 0;
  std::uint64_t queued = 0;           // accepted, not yet taken by a worker
  std::uint64_t rejected_backpressure = 0;  // producer submissions refused: no credits
  std::int64_t credits_capacity = 0;
  std::int64_t credits_outstanding = 0;     // spent by producers, not yet returned
  std::uint64_t producer_blocked_ns = 0;    // time producers spent in post_for/submit_for
  std::vector<WorkerStats> workers;
};

}  // namespace brisk

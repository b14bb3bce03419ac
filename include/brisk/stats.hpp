// A point-in-time snapshot of engine counters, merged from per-worker
// counters on read (workers never share a counter on the hot path).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace brisk {

// Percentiles of a latency histogram (log-linear buckets: each value is
// within 1/64 of the true sample value).
struct LatencySummary {
  std::uint64_t count = 0;
  double mean_ns = 0;
  std::uint64_t p50_ns = 0, p90_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
};

struct TaskTypeStats {
  std::string name;
  std::uint64_t accepted = 0, succeeded = 0, failed_attempts = 0, retried = 0;
  std::uint64_t dead_lettered = 0, cancelled = 0, rate_limited = 0;
  std::uint64_t timed_out = 0;     // attempts past the hard limit (then retried or dead-lettered)
  std::uint64_t late_results = 0;  // results of timed-out attempts, discarded
};

struct LaneStats {
  std::uint64_t accepted = 0;  // jobs ever pushed into this lane (all shards)
  std::uint64_t queued = 0;
};

struct WorkerStats {
  std::uint64_t executed = 0;  // jobs run (posted closures and named attempts)
  std::uint64_t failed = 0;    // jobs whose callable threw
  std::uint64_t stolen = 0;    // jobs taken from another worker's shard
  std::uint64_t steal_batches = 0;
  std::uint64_t parks = 0;     // times the worker slept on its futex
  std::uint64_t busy_ns = 0;   // running jobs (when record_latency)
  std::uint64_t parked_ns = 0; // asleep on the futex
  int cpu = -1;                // pinned CPU, -1 when not pinned
  // Times yielding its CPU left work waiting a time slice (a busy host's
  // threads took the CPU): the worker then parks instead of yielding for a
  // while (docs/architecture.md, "Idle workers on a busy host").
  std::uint64_t stranded_yields = 0;
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
  // Posts and submits made from inside tasks that found their lane full
  // everywhere (EngineConfig::task_overflow_per_worker): taken into their
  // worker's overflow, waiting there now, and refused (rejected_full, also
  // counted there) because the overflow was full too.
  std::uint64_t overflowed = 0;
  std::uint64_t overflow_depth = 0;
  std::uint64_t overflow_refused = 0;
  std::uint64_t rejected_backpressure = 0;  // producer submissions refused: no credits
  std::int64_t credits_capacity = 0;
  std::int64_t credits_outstanding = 0;     // spent by producers, not yet returned
  std::uint64_t producer_blocked_ns = 0;    // time producers spent in post_for/submit_for
  std::uint64_t named_in_flight = 0;        // named tasks accepted, not yet final
  std::uint64_t pending_timers = 0;         // named tasks waiting on a delay, backoff or rate limit
  std::uint64_t dead_letters = 0;
  std::uint64_t dead_letters_dropped = 0;   // oldest letters a full queue dropped (dead_letter_capacity)
  std::uint64_t finished_remembered = 0;    // finished tasks status() still knows (task_status)
  std::uint64_t finished_evicted = 0;       // forgotten for count or retention: status() says unknown
  std::uint64_t batches_open = 0;           // batches not complete (workflow.hpp), sealed or not
  std::uint64_t batch_callbacks_submitted = 0;  // batch callbacks submitted (each at most once a batch)
  // Write-ahead log (zero without one).
  std::uint64_t wal_records = 0, wal_bytes = 0, wal_batches = 0, wal_syncs = 0;
  std::uint64_t wal_largest_batch_bytes = 0;
  bool wal_failed = false;
  // After a disk failure, the log's own message: which file, which
  // operation, which error (e.g. "... fdatasync /var/lib/app/wal-000003.log:
  // Input/output error"). Empty while the log is healthy.
  std::string wal_failure;
  std::uint64_t durability_failures = 0;   // durable submissions refused: the log failed
  std::uint64_t trace_dropped = 0;          // trace events lost to full rings
  std::uint64_t uptime_ns = 0;              // since start()
  LatencySummary queue_wait;                // submit to start, every job
  LatencySummary run_time;                  // start to end, every job
  std::vector<WorkerStats> workers;
  std::vector<LaneStats> lanes;             // by priority, 0 first
  std::vector<TaskTypeStats> task_types;
};

}  // namespace brisk

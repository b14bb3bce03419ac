// Engine configuration. Every field has a sensible default; Engine's
// constructor validates the whole struct and throws ConfigError naming the
// offending field, before any thread starts.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "brisk/durability.hpp"
#include "brisk/health.hpp"
#include "brisk/task_status.hpp"

namespace brisk {

class Clock;

class ConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Metrics, tracing and health.
struct ObservabilityConfig {
  // Per-worker histograms of queue wait and run time: one clock read per
  // job, or per eight jobs while jobs run under 250 ns each (their run time
  // is then the group's average; docs/architecture.md).
  bool record_latency = true;
  // Per-worker trace ring of task lifecycle events; 0 turns tracing off
  // (then it costs one predictable branch per job).
  std::size_t trace_events_per_worker = 0;
  // With trace rings: trace from start() on (true), or only while
  // Engine::start_trace() has switched tracing on (false: a live engine
  // that a profiler attaches to; off, tracing costs one predictable branch
  // per batch of jobs).
  bool trace_from_start = true;
  // Serve /metrics (Prometheus text) and /healthz over HTTP on this port:
  // -1 off, 0 any free port (see Engine::metrics_port()).
  int metrics_port = -1;
  std::string metrics_host = "127.0.0.1";
  // Serve GET /debug/brisk/snapshot (Engine::snapshot_json) and
  // /debug/brisk/trace?seconds=N (a trace session) on the metrics server.
  // Off: both answer 404. With debug_token set, a request needs
  // "Authorization: Bearer <token>" (else 401); a metrics_host other than
  // loopback requires a token.
  bool debug_endpoints = false;
  std::string debug_token;
  // Bounds of one /debug/brisk/trace request: its seconds, and the bytes of
  // JSON it may answer (events beyond are left out, and the answer says so).
  unsigned max_trace_seconds = 60;
  std::size_t max_trace_bytes = std::size_t{64} << 20;
  HealthThresholds health;
};

// The default worker count: one per CPU the calling thread may run on (its
// affinity mask: taskset, a container's cpuset), capped by the process's
// cgroup v2 CPU quota rounded up (cpu.max: a quota of 1.5 CPUs gets 2), at
// least 1. Not hardware_concurrency(): an embedded engine must fit in what
// its host was given.
unsigned default_workers() noexcept;

struct EngineConfig {
  // Worker threads; one ring shard each. Must be >= 1. Read when the config
  // is constructed, on the constructing thread.
  unsigned workers = default_workers();
  // Slots per ring (one ring per priority lane per shard). Power of two,
  // 2..2^24. Total queued capacity = workers * priority_lanes * ring_capacity.
  std::size_t ring_capacity = 4096;
  // Per worker: jobs its own tasks post (or submit) once every ring of
  // their lane is full, kept in the worker's overflow and taken by it
  // before new outside work (thieves may take them too); beyond it, such a
  // post is refused rejected_full. Outside threads never use it. 0 (none)
  // or a power of two up to 2^24; 64 bytes a slot, allocated at construction.
  std::size_t task_overflow_per_worker = 4096;
  // Pin worker i to cpus[i % cpus.size()] (every CPU in the affinity mask
  // when cpus is empty). Off by default: brisk usually shares its CPUs with
  // the service that embeds it, and a pinned worker cannot move off a CPU
  // that a busy request thread holds (docs/perf.md, "Busy host"). To reserve
  // cores for brisk, keep the service's threads off them and set
  //   pin_workers = true; cpus = {2, 3}; workers = 2;
  bool pin_workers = false;
  std::vector<int> cpus;
  // Priority lanes (3..16: at least high, normal, low), lane 0 first. Workers serve lanes by weighted
  // round robin: lane i gets lane_weights[i] picks per cycle when all are busy.
  unsigned priority_lanes = 3;
  std::vector<unsigned> lane_weights = {8, 4, 1};
  // At most this many empty polls an idle worker makes before it parks on a
  // futex (the first 64 spin, the rest yield the CPU between polls). Longer
  // spins wake faster under bursty load and burn more CPU when idle. An
  // upper bound: a worker whose yields left work waiting a time slice (the
  // host's own threads took its CPU) parks after the 64 spins instead, for a
  // backoff of 1-100 ms (docs/architecture.md, "Idle workers").
  unsigned spin_polls = 2000;
  // Tasks a thief takes from a victim ring in one steal (1..256).
  unsigned steal_batch = 16;
  // Credits for Producer handles: work accepted through producers and not
  // yet finished never exceeds this. 0: workers * priority_lanes * ring_capacity.
  std::int64_t credits = 0;
  // Credits a Producer takes from the engine at once (1..credits).
  // 0: min(32, credits).
  std::int64_t credit_chunk = 0;
  // Named tasks that may exist at once (queued, running, delayed or waiting
  // for a retry); bounds their memory. 1..2^31.
  std::uint32_t max_named_tasks = 1u << 20;
  // Largest named-task payload accepted; larger ones are refused as invalid.
  std::size_t max_payload_bytes = 1u << 20;
  // A second submission with an idempotency key accepted less than this
  // long ago is answered `duplicate` and does not run. (Acceptance is
  // stamped with the clock's coarse reading: the window may close a few
  // milliseconds early.)
  std::chrono::nanoseconds idempotency_retention = std::chrono::hours(24);
  // Keys remembered at most; beyond it keyed submissions are refused
  // (rejected_full) rather than forgetting a key early.
  std::size_t max_idempotency_keys = 1u << 20;
  // Dead letters kept; beyond this the oldest are dropped (counted in
  // EngineStats::dead_letters_dropped; a durable one's drop is logged).
  std::size_t dead_letter_capacity = 100'000;
  // Timer wheel tick: delayed tasks and retries fire within one tick of
  // their due time. 1 us .. 1 s.
  std::chrono::nanoseconds timer_tick = std::chrono::milliseconds(1);
  // What Engine::status() remembers of finished tasks (task_status.hpp).
  TaskStatusConfig task_status;
  ObservabilityConfig observability;
  DurabilityConfig durability;
  // Time source for delays, retries and latency; nullptr: steady_clock.
  // Must outlive the engine.
  Clock* clock = nullptr;
};

}  // namespace brisk

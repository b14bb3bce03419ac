// The engine's snapshot for profilers (Engine::snapshot_json): one JSON
// document built from values the engine read at one moment. Everything a
// report needs to compare two snapshots is in it: counters are totals since
// start, histograms carry their buckets (so a reader subtracts two
// snapshots and takes percentiles of the difference), and the effective
// configuration says what was measured. docs/profiler.md lists the fields.
//
// This file only renders; EngineReadout gathers (engine_readout.cpp), so no
// engine internals are needed here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "brisk/config.hpp"
#include "brisk/stats.hpp"
#include "metrics/latency_histogram.hpp"
#include "observe/thread_sched.hpp"

namespace brisk::observe {

// Bumped when a field changes meaning or goes away (adding one does not).
inline constexpr int kSnapshotVersion = 1;

struct TypeLimitView {  // one task type's own limits and how full they are
  std::uint32_t max_concurrency = 0;
  double rate_per_second = 0;
  std::uint32_t running = 0;  // slots of the concurrency gate in use
  std::uint64_t parked = 0;   // tasks waiting at the gate for a slot
};

struct SnapshotInput {
  std::int64_t at_ns = 0;        // engine clock, when the values were read
  std::int64_t unix_ms = 0;      // wall clock, for people
  const EngineConfig* config = nullptr;
  std::int64_t credits = 0;      // in effect (config.credits may say 0: the default)
  const EngineStats* stats = nullptr;
  const metrics::HistogramSnapshot* queue_wait = nullptr;
  const metrics::HistogramSnapshot* run_time = nullptr;
  // The log's (null without one).
  const metrics::HistogramSnapshot* wal_fsync_ns = nullptr;
  const metrics::HistogramSnapshot* wal_batch_bytes = nullptr;
  const metrics::HistogramSnapshot* wal_batch_records = nullptr;
  std::vector<int> worker_tids;          // by stats->workers index
  std::vector<ThreadSched> worker_sched;  // by stats->workers index
  std::vector<TypeLimitView> type_limits;  // by stats->task_types index
  bool trace_rings = false;  // observability.trace_events_per_worker > 0
  bool tracing = false;      // tracing is on now
};

std::string render_snapshot_json(const SnapshotInput& in);

}  // namespace brisk::observe

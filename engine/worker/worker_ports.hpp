// WorkerPorts: everything a Worker is handed at construction, and nothing
// more: the shards it takes from, the lane schedule, the idle set it parks
// in, the clocks, the trace switch, the credit pool (to see a producer
// waiting), and where finished work goes back (the task table for records,
// FinishedWork for credits and completions). The engine builds one and
// keeps it for replacement workers (hard time limits).
#pragma once

#include <atomic>
#include <cstddef>

#include "brisk/clock.hpp"
#include "flow/credit_pool.hpp"
#include "park/idle_workers.hpp"
#include "platform/tick_clock.hpp"
#include "shard/lane_schedule.hpp"
#include "shard/shard_set.hpp"
#include "task/task_table.hpp"
#include "trace/trace_switch.hpp"
#include "worker/worker_batch.hpp"

namespace brisk::detail {

struct WorkerSettings {
  unsigned spin_polls = 0;              // EngineConfig::spin_polls
  std::size_t steal_batch = 1;          // jobs taken per claim, at most
  bool record_latency = false;          // queue-wait and run-time histograms
  std::size_t trace_events = 0;         // the worker's trace ring (0: none)
};

struct WorkerPorts {
  const void* engine;  // the engine's identity (this_thread_worker())
  ShardSet& shards;
  const LaneSchedule& lanes;
  IdleWorkers& idle;
  const Clock& clock;  // park times and trace anchors
  const TickClock& ticks;  // job stamps
  trace::TraceSwitch& trace;
  CreditPool& credits;  // has_waiters(): hand credits back at once when a producer waits
  TaskTable& tasks;  // finished records go back as one chain per batch
  FinishedWork& finished;  // credits and completions of finished jobs
  // Workers exit once this is set and no work is visible (acquire: they see
  // everything the engine did before setting it).
  const std::atomic<bool>& stopping;
  WorkerSettings settings;
};

}  // namespace brisk::detail

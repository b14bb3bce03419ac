// What start() brings back from the log into a new engine, once the log has
// read it (wal::RecoveredState): idempotency keys, dead letters, open
// batches and chains, and the tasks that had not finished, which wait on the
// timer for their due time (a due one at once) like any delayed task.
//
// Everything it fills is handed to it; it runs once, on the thread that
// calls start(), before any worker runs.
#pragma once

#include <cstdint>
#include <string>

#include "brisk/durability.hpp"
#include "dlq/dead_letter_queue.hpp"
#include "durability/durable_log.hpp"
#include "idempotency/idempotency_index.hpp"
#include "outcome/task_outcomes.hpp"
#include "platform/tick_clock.hpp"
#include "registry/task_registry.hpp"
#include "task/task_table.hpp"
#include "wal/recovery.hpp"
#include "workflow/workflows.hpp"

namespace brisk::detail {

struct ReplayTargets {
  DurableLog& log;  // open: engine times, and the dead letters it keeps
  TaskRegistry& registry;
  TaskTable& tasks;
  IdempotencyIndex& idempotency;
  DeadLetterQueue& dead_letters;
  Workflows& workflows;
  TaskOutcomes& outcomes;  // where incomplete tasks wait until due
  const TickClock& ticks;
  std::int64_t now_ns;       // engine time of the restart
  std::string wal_dir;       // for the sizes of files the log set aside
  std::size_t max_named_tasks;
  unsigned priority_lanes;
};

// Fills the targets from state and reports what it brought back, what it
// set aside and what damage the log's read found. Throws RecoveryError
// when the log holds more incomplete tasks than the task table has records.
RecoveryReport replay_into_engine(wal::RecoveredState& state, const ReplayTargets& targets);

}  // namespace brisk::detail

// TaskEndings: what happens once a named task has ended for good.
//
// TaskOutcomes decides how an attempt ends (success, a retry, a dead
// letter, a cancel); this class carries out the end itself, the same way
// whoever decided it: the final state is remembered for Engine::status()
// and reported to the task's batch or chain, a completion or dead letter is
// logged, and the record and credit are given back (with a worker's batch
// when a worker ends the task, so they go back in one push; anywhere else
// at once). It is also the worker's FinishedWork: the credits and
// completions a worker batched come back here.
//
// It holds no state of its own beyond what it is handed, so any thread may
// call it for a record that thread holds.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "brisk/clock.hpp"
#include "brisk/task.hpp"
#include "dlq/dead_letter_queue.hpp"
#include "durability/durable_log.hpp"
#include "flow/credit_pool.hpp"
#include "registry/task_registry.hpp"
#include "status/finished_tasks.hpp"
#include "status/task_status.hpp"
#include "task/task_table.hpp"
#include "worker/worker_batch.hpp"
#include "workflow/workflows.hpp"

namespace brisk::detail {

class TaskEndings final : public FinishedWork {
 public:
  TaskEndings(const Clock& clock, TaskTable& tasks, DeadLetterQueue& dead_letters, CreditPool& credits,
              FinishedTasks& finished)
      : clock_(clock), tasks_(tasks), dead_letters_(dead_letters), credits_(credits), finished_(finished) {}

  // The log, once start() has opened it (null: no durability).
  void attach_log(DurableLog* log) noexcept { log_ = log; }
  // Where tasks in batches and chains report their final state.
  void attach_workflows(Workflows* workflows) noexcept { workflows_ = workflows; }

  // The handler succeeded with this result: remembered, its completion
  // logged (with the worker's batch, when a worker ran it), record retired.
  void succeed(TaskRecord& record, TaskTypeEntry& type, std::string&& result, WorkerBatch* batch);
  // Out of attempts, or failed for good: kept in the dead-letter queue (and
  // the log) with its failures, remembered, record retired.
  void dead_letter(TaskRecord& record, TaskTypeEntry& type, WorkerBatch* batch);
  // The watchdog found no record free to retry an overrun task in: it is
  // dead-lettered from the overrun record, which its stuck worker drops later.
  void dead_letter_overrun(TaskRecord& overrun, TaskTypeEntry& type, std::int64_t now);
  // Its final state, for Engine::status() (before the record is given back);
  // batch: the worker's, when a worker ran it and nothing slow follows in
  // this job (its end time is handed on as the next task's start).
  void remember(TaskRecord& record, TaskState state, std::string_view last_error, std::string&& result,
                WorkerBatch* batch);
  // Gives back the record and its credit (with the worker's batch when a
  // worker ran it to the end).
  void retire(TaskRecord& record, WorkerBatch* batch);
  // Engine::purge_dead_letters: logged (and waited for) before it answers.
  std::size_t purge_dead_letters();

  // FinishedWork: what workers batched, handed back when their batch ends.
  void return_credits(std::int64_t n) override;
  void log_completions(std::span<const std::uint64_t> durable_ids) override;

 private:
  const Clock& clock_;
  TaskTable& tasks_;
  DeadLetterQueue& dead_letters_;
  CreditPool& credits_;
  FinishedTasks& finished_;
  DurableLog* log_ = nullptr;
  Workflows* workflows_ = nullptr;
};

}  // namespace brisk::detail

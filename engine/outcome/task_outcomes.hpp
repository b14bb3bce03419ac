// TaskOutcomes: a named task's life after it was accepted, in one place.
//
// A named task reaches a worker as a NamedTaskJob (record + this), and run()
// takes it from there: the concurrency gate, the handler, and what its
// Outcome leads to (success: its completion logged and its record given
// back; retry: the timer, after the backoff; failure: the dead-letter
// queue). The timer hands due records back through make_ready(), which
// takes a rate-limited task's turn and puts it into a ring. cancel() and
// the hard-limit watchdog's retry_overrun() meet the same records from
// other threads; the record's state word decides every race (see
// task/task_record.hpp).
//
// A handler may take its outcome away (TaskContext::defer): the attempt then
// ends when its DeferredOutcome is completed, from any thread, through
// complete_deferred(), or when its hard limit passes (expire_deferred). The
// record's state word decides who ends it (task/task_record.hpp, the
// deferral states).
//
// Everything it uses is handed to it (no reach back into the engine): the
// registry, the task table, the shard set, the timer, the dead-letter
// queue, credits, the clocks, and the log once start() has opened it. A
// worker hands its WorkerBatch to the run (NamedTaskJob): the record and the
// completion of a task that ends there go back with the worker's batch;
// anywhere else (a timer, the watchdog, a DeferredOutcome completed on any
// thread, cancel()) they go back at once. How a task's end is carried out
// (remembered, logged, dead-lettered, given back) is TaskEndings'.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "brisk/clock.hpp"
#include "brisk/detail/job.hpp"
#include "brisk/task.hpp"
#include "delay/delay_scheduler.hpp"
#include "dlq/dead_letter_queue.hpp"
#include "durability/durable_log.hpp"
#include "flow/credit_pool.hpp"
#include "outcome/deferred_deadlines.hpp"
#include "outcome/task_endings.hpp"
#include "platform/tick_clock.hpp"
#include "registry/task_registry.hpp"
#include "shard/shard_set.hpp"
#include "status/finished_tasks.hpp"
#include "status/task_status.hpp"
#include "task/task_table.hpp"
#include "worker/worker_batch.hpp"
#include "workflow/workflows.hpp"

namespace brisk::detail {

class RunningTask;

class TaskOutcomes final : public DeferredSink {
 public:
  TaskOutcomes(const Clock& clock, const TickClock& ticks, TaskRegistry& registry,
               TaskTable& tasks, ShardSet& shards, DelayScheduler& delays, DeadLetterQueue& dead_letters,
               CreditPool& credits, FinishedTasks& finished, std::size_t max_result_bytes)
      : clock_(clock),
        ticks_(ticks),
        registry_(registry),
        tasks_(tasks),
        shards_(shards),
        delays_(delays),
        finished_(finished),
        max_result_bytes_(max_result_bytes),
        endings_(clock, tasks, dead_letters, credits, finished) {}

  // The log, once start() has opened it (null: no durability).
  void attach_log(DurableLog* log) noexcept {
    log_ = log;
    endings_.attach_log(log);
  }
  // Where tasks in batches and chains report their final state.
  void attach_workflows(Workflows* workflows) noexcept {
    workflows_ = workflows;
    endings_.attach_workflows(workflows);
  }
  // How tasks end; the workers' FinishedWork.
  TaskEndings& endings() noexcept { return endings_; }

  // The ring job that runs the record (run()).
  Job named_job(TaskRecord& record) noexcept;
  // Takes the record's turn at its type's rate (RateLimiter::reserve): 0 if
  // it may run now, else the engine time its turn comes.
  std::int64_t take_rate_turn(TaskRecord& record, TaskTypeEntry& type);
  // running (or accepted, or recovered) -> waiting until due_ns.
  void wait_until(TaskRecord& record, std::int64_t due_ns);

  // A worker runs a named task's attempt (batch: the worker's, null when
  // another thread runs what the rings hold, as at shutdown).
  void run(TaskRecord& record, WorkerBatch* batch);
  // DelayScheduler callback: a waiting record is due. False if the rings are full.
  bool make_ready(TaskRecord& record);
  // Engine::cancel: see docs/architecture.md (logged before it answers).
  bool cancel(TaskId id);
  // The watchdog found `overrun` past its hard limit: retry it in a fresh
  // record (or dead-letter it), then let its stuck worker drop the old one.
  void retry_overrun(TaskRecord* overrun, std::int64_t now);

  // A DeferredOutcome completes its attempt (any thread): false if the
  // attempt had already ended (counted as a late result).
  bool complete_deferred(void* record, void* context, std::uint64_t tag, std::uint32_t type, Outcome&& outcome,
                         std::string&& result) noexcept override;
  // The watchdog: deferred attempts past their hard limit fail as timed out.
  void expire_deferred(std::int64_t now);
  // Deferred attempts not yet ended: drain() waits for them like running ones.
  std::int64_t deferred_tasks() const noexcept {
    // acquire: pairs with the release decrement; what the attempt's end did
    // (a retry filed with the timer, say) is visible to drain().
    return deferred_.load(std::memory_order_acquire);
  }

 private:
  // A ring position for a job of this priority, the worker's own shard
  // first when a worker asks (see ShardSet::claim).
  ShardSet::Slot claim_slot(Priority priority, const WorkerBatch* batch) noexcept {
    return shards_.claim(priority, batch != nullptr ? batch->home_shard() : ShardSet::kNoHome);
  }
  // What an attempt's outcome leads to: success, a retry, a dead letter.
  void finish(TaskRecord& record, TaskTypeEntry& type, Outcome&& outcome, std::string&& result,
              std::size_t result_too_large, WorkerBatch* batch);
  // The handler returned after defer(): leave the attempt to its handle, or
  // finish it here if the handle was completed meanwhile. hard_limited:
  // the attempt has a hard limit, begun in batch.
  void end_deferring(TaskRecord& record, TaskTypeEntry& type, RunningTask& context, WorkerBatch* batch,
                     bool hard_limited, std::int64_t deadline);
  // Waits out a completion being handed over, then takes the attempt back
  // (running). True if a completion was handed over.
  bool take_back(TaskRecord& record, std::uint64_t tag);
  // The watchdog retried this attempt elsewhere: discard it and its record.
  void drop_overrun(TaskRecord& record, TaskTypeEntry& type, bool late_result);
  void record_failure(TaskRecord& record, TaskTypeEntry& type, const Outcome& outcome);
  // Frees a slot of the type's ConcurrencyGate, handing it to a parked task.
  void release_gate_slot(TaskTypeEntry& type, WorkerBatch* batch);
  // A holder (worker, timer) found the record cancelled (its own transition
  // failed): retire it, or leave it to a cancel() still logging it.
  void meet_cancelled(TaskRecord& record, TaskTypeEntry& type, WorkerBatch* batch);
  // Retires a cancelled task; a concurrency slot it was handed passes on.
  void retire_cancelled(TaskRecord& record, TaskTypeEntry& type, WorkerBatch* batch);

  const Clock& clock_;
  const TickClock& ticks_;
  TaskRegistry& registry_;
  TaskTable& tasks_;
  ShardSet& shards_;
  DelayScheduler& delays_;
  FinishedTasks& finished_;
  const std::size_t max_result_bytes_;
  TaskEndings endings_;
  DurableLog* log_ = nullptr;
  Workflows* workflows_ = nullptr;
  DeferredDeadlines deadlines_;  // deferred attempts of types with a hard limit
  std::atomic<std::int64_t> deferred_{0};
};

// Named tasks travel through the rings as this 16-byte, trivially copyable
// job; the worker that runs it hands it its batch (Job::TakesBatch).
struct NamedTaskJob {
  TaskOutcomes* outcomes;
  TaskRecord* record;
  void operator()(WorkerBatch* batch) const { outcomes->run(*record, batch); }
};

}  // namespace brisk::detail

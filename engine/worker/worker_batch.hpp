// WorkerBatch: what the jobs of one worker's batch hand back to it, gathered
// so that a batch costs one push of records and one log record, not one per
// task; and the attempt with a hard time limit it is running, which the
// watchdog may take over.
//
// A worker hands its WorkerBatch explicitly to every job it runs
// (Job::run(WorkerBatch*)): a named task's run (TaskOutcomes) gives its
// record and its completion back through it. Any other thread runs jobs with
// no batch, and the outcome side then gives them back at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include "brisk/clock.hpp"
#include "platform/tick_clock.hpp"
#include "task/task_table.hpp"

namespace brisk::detail {

struct TaskRecord;

// Where a worker hands back what its jobs finished: owned by the outcome
// side (TaskOutcomes), which returns credits to the pool and logs.
class FinishedWork {
 public:
  // Credits of finished producer jobs, batched by the worker.
  virtual void return_credits(std::int64_t n) = 0;
  // Durable tasks that completed, batched by the worker: one log record.
  virtual void log_completions(std::span<const std::uint64_t> durable_ids) = 0;

 protected:
  ~FinishedWork() = default;
};

class WorkerBatch {
 public:
  // home_shard: the worker's shard; capacity: completions buffered at most (steal_batch).
  WorkerBatch(std::size_t home_shard, std::size_t capacity, TaskTable& tasks, FinishedWork& finished,
              const TickClock& ticks)
      : home_shard_(home_shard), tasks_(tasks), finished_(finished), ticks_(ticks) {
    completions_.reserve(capacity);
  }
  WorkerBatch(const WorkerBatch&) = delete;
  WorkerBatch& operator=(const WorkerBatch&) = delete;

  // Where the jobs this worker's tasks release go first (ShardSet home).
  std::size_t home_shard() const noexcept { return home_shard_; }

  // A task this worker ran is done with its record: it goes back to the
  // table with the batch's others when the batch ends.
  void release_record(TaskRecord& record) noexcept { tasks_.defer_release(&record, records_); }

  // A durable task this worker ran has completed: logged with the others of
  // the batch as one record when the batch ends, or between two tasks once
  // the oldest has waited kCompletionDelayNs.
  void log_completion(std::uint64_t durable_id);
  // Logs the buffered completions now (before an attempt that may hang).
  void flush_completions();
  // Logs them if the oldest has waited kCompletionDelayNs (now_ticks: a
  // TickClock stamp of now). No clock read when none is buffered.
  void flush_completions_if_due(std::uint64_t now_ticks) {
    if (!completions_.empty() && ticks_.to_ns(now_ticks - completions_since_) > kCompletionDelayNs) {
      flush_completions();
    }
  }
  bool has_completions() const noexcept { return !completions_.empty(); }
  // The batch ended: completions logged, records back in one push.
  void end() {
    flush_completions();
    tasks_.release_chain(records_);
    ++job_;  // the worker may idle now: no time is handed to the next batch
  }

  // ---- one coarse clock read per task, not two ----
  // A finished task's end is stamped from the coarse clock (a few ms of
  // resolution); the next job of the batch starts within a few hundred ns
  // of it, so that task may take the same reading as its start. Saves a
  // clock read (~7 ns here, 2% of an empty named task) per task.

  // The worker calls this before each job it runs.
  void next_job() noexcept { ++job_; }
  // A task this job ran ended at `coarse_ns` (Clock::now_coarse_ns()).
  void ended_at(std::int64_t coarse_ns) noexcept {
    ended_ns_ = coarse_ns;
    ended_valid_for_ = job_ + 1;
  }
  // The coarse time a task starting now starts at: the previous job's end
  // if it ended a task and nothing ran since, else a fresh reading.
  std::int64_t start_time(const Clock& clock) const noexcept {
    return ended_valid_for_ == job_ ? ended_ns_ : clock.now_coarse_ns();
  }

  // ---- hard time limits (the watchdog's view of this worker) ----

  // Called by the worker's job around a named attempt that has a hard limit.
  void begin_attempt(TaskRecord* record, std::int64_t deadline_ns) noexcept {
    attempt_record_.store(record, std::memory_order_relaxed);
    // release: the record pointer is visible to a watchdog that sees the deadline.
    attempt_deadline_ns_.store(deadline_ns, std::memory_order_release);
  }
  // False if the watchdog took the attempt first (it is being retried
  // elsewhere; the caller must discard its result).
  bool end_attempt(std::int64_t deadline_ns) noexcept {
    // acq_rel: pairs with take_overrun's CAS; exactly one of the two wins.
    return attempt_deadline_ns_.compare_exchange_strong(deadline_ns, 0, std::memory_order_acq_rel);
  }
  // The watchdog takes the overrun attempt (once): returns its record, or
  // nullptr if none is past deadline.
  TaskRecord* take_overrun(std::int64_t now_ns) noexcept {
    std::int64_t deadline = attempt_deadline_ns_.load(std::memory_order_acquire);
    if (deadline == 0 || now_ns < deadline) return nullptr;
    // acq_rel: only one taker, and it sees begin_attempt's record store.
    if (!attempt_deadline_ns_.compare_exchange_strong(deadline, 0, std::memory_order_acq_rel)) return nullptr;
    return attempt_record_.load(std::memory_order_relaxed);
  }

 private:
  // Buffered completions are logged between two tasks once the oldest is
  // this old: a slow task later in a batch must not hold the earlier ones back long.
  static constexpr std::uint64_t kCompletionDelayNs = 1'000'000;

  const std::size_t home_shard_;
  TaskTable& tasks_;
  FinishedWork& finished_;
  const TickClock& ticks_;
  TaskTable::ReleaseChain records_;
  std::vector<std::uint64_t> completions_;  // durable ids finished this batch; capacity steal_batch
  std::uint64_t completions_since_ = 0;     // tick stamp of the oldest buffered completion
  std::uint64_t job_ = 0;              // jobs run (and batches ended) so far
  std::uint64_t ended_valid_for_ = 0;  // the job that may start at ended_ns_ (0: none)
  std::int64_t ended_ns_ = 0;
  std::atomic<std::int64_t> attempt_deadline_ns_{0};  // 0: no attempt with a hard limit running
  std::atomic<TaskRecord*> attempt_record_{nullptr};
};

}  // namespace brisk::detail

// Engine::status(), wait() and on_finished(): a live task's state read from
// its record, a finished one's from FinishedTasks.
//
// The record may finish and be reused by another task while it is read, so
// the fields status() reads are atomics, read between two loads of the
// record's state word (a seqlock reader): if the generation changed between
// them, what was read may be another task's and is thrown away. A finished
// task's state comes from FinishedTasks instead.
#pragma once

#include <chrono>
#include <cstdint>

#include "brisk/clock.hpp"
#include "brisk/task_status.hpp"
#include "platform/tick_clock.hpp"
#include "status/finished_tasks.hpp"
#include "task/task_table.hpp"

namespace brisk::detail {

// The task's state while its record holds it; state unknown once it is no
// longer live (finished, or an id this table never issued).
TaskInfo live_status(const TaskTable& tasks, TaskId id, const TickClock& ticks) noexcept;

class TaskStatusQueries {
 public:
  TaskStatusQueries(const TaskTable& tasks, FinishedTasks& finished, const TickClock& ticks, const Clock& clock)
      : tasks_(tasks), finished_(finished), ticks_(ticks), clock_(clock) {}

  TaskInfo status(TaskId id) const;
  // Returns once the task is final, or after `timeout` with its state then.
  // An unknown task is answered at once. Blocks: never call it on a worker.
  TaskInfo wait(TaskId id, std::chrono::nanoseconds timeout);
  // Calls `callback` once with the task's final state: now, on this thread,
  // if it is final already (or unknown); else on the thread that finishes it.
  void on_finished(TaskId id, FinishedTasks::Callback callback);

 private:
  const TaskTable& tasks_;
  FinishedTasks& finished_;
  const TickClock& ticks_;
  const Clock& clock_;
};

}  // namespace brisk::detail

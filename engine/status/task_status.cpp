#include "status/task_status.hpp"

#include <atomic>

namespace brisk::detail {

TaskInfo live_status(const TaskTable& tasks, TaskId id, const TickClock& ticks) noexcept {
  TaskInfo info;
  info.id = id;
  const TaskRecord* record = tasks.find(id);
  if (record == nullptr) return info;
  const auto generation = static_cast<std::uint32_t>(id >> 32);
  for (;;) {
    // acquire: the fields below were written before the state that names
    // this generation was published (release), so they are this task's.
    const std::uint64_t word = record->state_word.load(std::memory_order_acquire);
    if (generation_of(word) != generation) return info;
    TaskInfo live = info;
    switch (state_of(word)) {
      case RecordState::free: return info;  // finished: FinishedTasks knows the rest
      case RecordState::queued: live.state = TaskState::queued; break;
      case RecordState::running:
      case RecordState::deferring:
      case RecordState::handing_over:
      case RecordState::handed_over:
      case RecordState::deferred: live.state = TaskState::running; break;  // TaskContext::defer
      case RecordState::waiting: live.state = TaskState::delayed; break;
      case RecordState::cancelling:
      case RecordState::cancelled:
      case RecordState::left_to_canceller: live.state = TaskState::cancelled; break;
    }
    live.attempts = record->attempt.load(std::memory_order_relaxed);
    if (live.state == TaskState::delayed && live.attempts > 0) live.state = TaskState::retry_waiting;
    if (live.state == TaskState::running) live.started_ns = record->started_ns.load(std::memory_order_relaxed);
    const std::uint64_t stamp = record->accepted_stamp.load(std::memory_order_relaxed);
    // acquire fence, then the state word again (a seqlock read): if the task
    // moved on meanwhile (to its next state, or it finished and
    // TaskTable::reset cleared the fields after storing "free"), the reads
    // above may not belong to `word`: read again.
    std::atomic_thread_fence(std::memory_order_acquire);
    if (record->state_word.load(std::memory_order_relaxed) != word) continue;
    live.accepted_ns = ticks.time_of(stamp);
    return live;
  }
}

TaskInfo TaskStatusQueries::status(TaskId id) const {
  TaskInfo info = live_status(tasks_, id, ticks_);
  // Not live: finished (remembered before its record was given back) or unknown.
  if (info.state == TaskState::unknown) finished_.find(id, clock_.now_coarse_ns(), &info);
  return info;
}

TaskInfo TaskStatusQueries::wait(TaskId id, std::chrono::nanoseconds timeout) {
  TaskInfo info = status(id);
  if (info.state == TaskState::unknown || is_final(info.state)) return info;
  // Live a moment ago: its record exists (a live state came from it).
  const TaskRecord& record = *tasks_.find(id);
  if (finished_.wait_for(id, record.ended_generation, clock_.now_coarse_ns(), timeout, &info)) return info;
  return status(id);
}

void TaskStatusQueries::on_finished(TaskId id, FinishedTasks::Callback callback) {
  TaskInfo info = status(id);
  if (info.state == TaskState::unknown || is_final(info.state)) {
    callback(info);
    return;
  }
  // Finished meanwhile: when_added finds it remembered (or, evicted at
  // once, knows it ended) and runs the callback now.
  const TaskRecord& record = *tasks_.find(id);
  finished_.when_added(id, record.ended_generation, clock_.now_coarse_ns(), std::move(callback));
}

}  // namespace brisk::detail

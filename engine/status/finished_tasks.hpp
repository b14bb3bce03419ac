// FinishedTasks: the finished named tasks Engine::status() still remembers,
// and whoever waits for one (Engine::wait, Engine::on_finished).
//
// Bounded: at most `capacity` tasks, none older than `retention`; the
// oldest go first (FIFO), counted. The fixed-size part of each entry lives
// in a FinishedRing, written without a lock (finished_ring.hpp); an error
// or a result, which most tasks lack, waits in a map under a mutex, taken
// only by tasks that have one. Adding a task without texts that no one
// waits for takes no lock and allocates nothing.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "brisk/task_status.hpp"
#include "platform/tick_clock.hpp"
#include "status/finished_ring.hpp"

namespace brisk::detail {

// A finished task as the store is handed it: its texts apart (most tasks
// have neither an error nor a result), its acceptance a raw TickClock stamp
// converted only when asked. The fields are the ring's own layout, passed
// through as written (has_texts is set by add()).
struct FinishedTask {
  struct Texts {
    std::string last_error;
    std::string result;
  };
  FinishedFields fields;
  std::unique_ptr<Texts> texts;  // null: no error, no result
};

class FinishedTasks {
 public:
  using Callback = std::function<void(const TaskInfo&)>;

  // capacity 0: nothing is remembered; waiters and callbacks still work.
  FinishedTasks(std::size_t capacity, std::int64_t retention_ns, const TickClock& ticks);
  ~FinishedTasks();
  FinishedTasks(const FinishedTasks&) = delete;
  FinishedTasks& operator=(const FinishedTasks&) = delete;

  // A task reached its final state (finished_ns on the engine clock).
  // Wakes its waiters and runs its callbacks, on this thread, after the
  // waiters' lock is released; returns how many it ran or woke. `ended`:
  // its record's ended_generation, set here once the entry is written.
  std::size_t add(FinishedTask&& task, std::atomic<std::uint32_t>& ended);
  // The remembered final state of `id`, if any and younger than retention.
  bool find(TaskId id, std::int64_t now_ns, TaskInfo* out) const;
  // Blocks up to `timeout` (real time) for `id` to be added; false on timeout.
  // `ended`: the ended_generation of id's record. A task that ended but is
  // no longer remembered (evicted, past retention) answers `unknown` at once.
  bool wait_for(TaskId id, const std::atomic<std::uint32_t>& ended, std::int64_t now_ns,
                std::chrono::nanoseconds timeout, TaskInfo* out);
  // Runs `callback` once `id` is added (or now, if it already was, or it
  // ended and is no longer remembered: then with `unknown`; returns true
  // after running it on this thread).
  bool when_added(TaskId id, const std::atomic<std::uint32_t>& ended, std::int64_t now_ns, Callback callback);

  // True when finished tasks are kept (capacity > 0).
  bool remembers() const noexcept { return capacity_ != 0; }
  // False when add() would do nothing: nothing is remembered and no one waits.
  // (relaxed: with nothing remembered, a waiter registered concurrently
  // with the task's end may miss it, and waits out its timeout; wait()
  // then answers the state status() gives, `unknown`.)
  bool wanted() const noexcept { return capacity_ != 0 || pending_.load(std::memory_order_relaxed) != 0; }

  std::uint64_t evicted() const noexcept;
  std::size_t size() const noexcept;

 private:
  struct Pending {
    std::uint64_t token;
    Callback callback;
  };

  TaskInfo info_of(const FinishedFields& task) const;
  // Registers `callback` for `id`, then looks again (see add()). Returns
  // the callback back if the task ended meanwhile and the callback was
  // withdrawn before add() took it (then `out` holds the task's state, or
  // `unknown` if it is not remembered); else an empty one: add() runs it.
  Callback register_pending(TaskId id, const std::atomic<std::uint32_t>& ended, std::int64_t now_ns,
                            Callback callback, std::uint64_t* token, TaskInfo* out);
  // Removes the registration `token`; empty if add() took it already.
  Callback withdraw(TaskId id, std::uint64_t token);

  const std::size_t capacity_;
  const std::int64_t retention_ns_;
  const TickClock& ticks_;
  std::unique_ptr<FinishedRing> ring_;  // null when capacity is 0
  // Errors and results of the entries the ring holds, by task.
  mutable std::mutex texts_mutex_;
  std::unordered_map<TaskId, FinishedTask::Texts> texts_;
  // Callbacks and waiters by task. pending_ counts them: add() looks at
  // the map only when it is non-zero (fenced, see add()).
  std::mutex pending_mutex_;
  std::unordered_multimap<TaskId, Pending> pending_map_;
  std::uint64_t next_token_ = 1;
  std::atomic<std::size_t> pending_{0};
};

}  // namespace brisk::detail

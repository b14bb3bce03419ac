// FinishedTasks: the finished named tasks Engine::status() still remembers,
// and whoever waits for one (Engine::wait, Engine::on_finished).
//
// Bounded: at most `capacity` tasks, none older than `retention`; the
// oldest go first (FIFO), counted. Sharded by id so that two workers
// finishing tasks rarely meet on one lock; within a shard a ring holds the
// entries in finishing order and an open-addressing index finds one by id.
// Adding costs one lock and no allocation once the ring has grown (an entry's
// strings keep their buffers), except for the error and result bytes.
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

namespace brisk::detail {

// A finished task as the store keeps it: 48 bytes, its texts apart (most
// tasks have neither an error nor a result), its acceptance a raw TickClock
// stamp converted only when asked.
struct FinishedTask {
  struct Texts {
    std::string last_error;
    std::string result;
  };
  TaskId id = 0;
  std::uint64_t accepted_stamp = 0;
  std::int64_t started_ns = 0;
  std::int64_t finished_ns = 0;
  std::uint32_t attempts = 0;
  TaskState state = TaskState::unknown;
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
  // shard's lock is released.
  void add(FinishedTask&& task);
  // The remembered final state of `id`, if any and younger than retention.
  bool find(TaskId id, std::int64_t now_ns, TaskInfo* out) const;
  // Blocks up to `timeout` (real time) for `id` to be added; false on timeout.
  bool wait_for(TaskId id, std::int64_t now_ns, std::chrono::nanoseconds timeout, TaskInfo* out);
  // Runs `callback` once `id` is added (or now, if it already was: then
  // returns true after running it on this thread).
  bool when_added(TaskId id, std::int64_t now_ns, Callback callback);

  // True when finished tasks are kept (capacity > 0).
  bool remembers() const noexcept { return capacity_ != 0; }
  // False when add() would do nothing: nothing is remembered and no one waits.
  bool wanted() const noexcept { return capacity_ != 0 || pending_.load(std::memory_order_relaxed) != 0; }

  std::uint64_t evicted() const noexcept;
  std::size_t size() const noexcept;

 private:
  struct Shard;
  Shard& shard_of(TaskId id) const noexcept;

  TaskInfo info_of(const FinishedTask& task) const;

  const std::size_t capacity_;
  const std::int64_t retention_ns_;
  const TickClock& ticks_;
  // Callbacks and waiters registered, over all shards (relaxed: a hint that
  // lets add() be skipped when no one would see it; see wanted()).
  std::atomic<std::size_t> pending_{0};
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace brisk::detail

// ConcurrencyGate: at most `limit` tasks of one type run at once.
//
// A task over the limit is parked here (no spinning, no worker blocked) and
// handed the slot of the next task of its type to finish, so other types
// keep flowing while this one waits. A mutex guards the count and the
// queue: the gate exists only for types that asked for a limit, whose
// throughput that limit caps anyway.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>

namespace brisk::detail {

struct TaskRecord;

class ConcurrencyGate {
 public:
  explicit ConcurrencyGate(std::uint32_t limit) : limit_(limit) {}

  // True: the caller holds a slot and may run. False: record is parked and
  // will come back from leave() with a slot.
  bool enter_or_park(TaskRecord* record) {
    std::lock_guard lock(mutex_);
    if (running_ < limit_) {
      ++running_;
      return true;
    }
    parked_.push_back(record);
    return false;
  }

  // Gives up a slot. If a task is parked, the slot passes to it and it is
  // returned (the caller must run or requeue it); otherwise nullptr.
  TaskRecord* leave() {
    std::lock_guard lock(mutex_);
    if (!parked_.empty()) {
      TaskRecord* next = parked_.front();
      parked_.pop_front();
      return next;
    }
    --running_;
    return nullptr;
  }

  std::uint32_t running() const {
    std::lock_guard lock(mutex_);
    return running_;
  }
  std::size_t parked() const {
    std::lock_guard lock(mutex_);
    return parked_.size();
  }

 private:
  const std::uint32_t limit_;
  mutable std::mutex mutex_;
  std::uint32_t running_ = 0;
  std::deque<TaskRecord*> parked_;
};

}  // namespace brisk::detail

// WorkerSet: the engine's workers, including replacements started when a
// handler overran its hard time limit. Fixed capacity and an atomic count, so
// readers (drain, stats, the watchdog) iterate while a replacement is added,
// without a lock: a slot is filled before the count that publishes it.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

#include "worker/worker.hpp"

namespace brisk::detail {

class WorkerSet {
 public:
  explicit WorkerSet(std::size_t capacity) : capacity_(capacity), slots_(new std::unique_ptr<Worker>[capacity]) {}

  // False when full. Only one thread adds at a time (the constructor, then the watchdog).
  bool add(std::unique_ptr<Worker> worker) noexcept {
    const std::size_t n = count_.load(std::memory_order_relaxed);
    if (n == capacity_) return false;
    slots_[n] = std::move(worker);
    // release: the slot's pointer (and the Worker it owns) is complete before
    // a reader that acquires the count reads it.
    count_.store(n + 1, std::memory_order_release);
    return true;
  }
  std::size_t size() const noexcept { return count_.load(std::memory_order_acquire); }
  Worker& operator[](std::size_t i) const noexcept { return *slots_[i]; }

 private:
  const std::size_t capacity_;
  std::unique_ptr<std::unique_ptr<Worker>[]> slots_;
  std::atomic<std::size_t> count_{0};
};

}  // namespace brisk::detail

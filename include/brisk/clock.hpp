// The engine's notion of time. Injectable so that tests of delays, retries
// and timeouts run on a manual clock instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace brisk {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic nanoseconds since an arbitrary epoch. Thread-safe.
  virtual std::int64_t now_ns() const noexcept = 0;
};

// std::chrono::steady_clock (CLOCK_MONOTONIC through the vDSO: ~20 ns).
class SteadyClock final : public Clock {
 public:
  std::int64_t now_ns() const noexcept override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  static SteadyClock& instance() noexcept {
    static SteadyClock clock;
    return clock;
  }
};

// A clock that moves only when told to. Time never goes backwards.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_ns = 1'000'000'000) : now_(start_ns) {}
  // relaxed is enough: the engine's timer thread is woken separately after an
  // advance (Engine::notify_clock_advanced), which orders the store for it.
  std::int64_t now_ns() const noexcept override { return now_.load(std::memory_order_relaxed); }
  void advance(std::chrono::nanoseconds by) noexcept {
    now_.fetch_add(by.count(), std::memory_order_relaxed);
  }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace brisk

// The engine's notion of time. Injectable so that tests of delays, retries
// and timeouts run on a manual clock instead of sleeping.
#pragma once

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace brisk {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic nanoseconds since an arbitrary epoch. Thread-safe.
  virtual std::int64_t now_ns() const noexcept = 0;
  // The same clock, possibly a few milliseconds behind now_ns() and cheaper
  // to read: for stamps that need no precision (when an idempotency key or a
  // durable task was accepted). Never ahead of now_ns().
  virtual std::int64_t now_coarse_ns() const noexcept { return now_ns(); }
};

// std::chrono::steady_clock (CLOCK_MONOTONIC through the vDSO: ~20 ns);
// coarse: CLOCK_MONOTONIC_COARSE, the same clock as of the last tick (a few
// ms at most; a few ns to read).
class SteadyClock final : public Clock {
 public:
  std::int64_t now_ns() const noexcept override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  std::int64_t now_coarse_ns() const noexcept override {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
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
  // relaxed is enough: the time is a self-contained number, no other data
  // rides on it. The timer thread reads it again only when its sleep (the
  // wait it computed, slept in real time) ends or it is woken:
  // Engine::drain() wakes it and waits for that read, which is what tests do.
  std::int64_t now_ns() const noexcept override { return now_.load(std::memory_order_relaxed); }
  void advance(std::chrono::nanoseconds by) noexcept {
    now_.fetch_add(by.count(), std::memory_order_relaxed);
  }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace brisk

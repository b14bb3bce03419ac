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
  // The same clock, possibly a few milliseconds behind now_ns() and cheaper
  // to read: for stamps that need no precision (when an idempotency key or a
  // durable task was accepted). Never ahead of now_ns().
  virtual std::int64_t now_coarse_ns() const noexcept { return now_ns(); }
};

// std::chrono::steady_clock (CLOCK_MONOTONIC through the vDSO: ~20 ns);
// coarse: CLOCK_MONOTONIC_COARSE, the same clock as of the last tick (a few
// ms at most; a few ns to read). Defined in the library
// (engine/platform/steady_clock.cpp), not here: no platform call in a
// public header.
class SteadyClock final : public Clock {
 public:
  std::int64_t now_ns() const noexcept override;
  std::int64_t now_coarse_ns() const noexcept override;
  // The one instance every engine without a clock of its own uses.
  static SteadyClock& instance() noexcept;
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

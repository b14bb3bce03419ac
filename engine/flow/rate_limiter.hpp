// RateLimiter: a token bucket for one task type, as the Generic Cell Rate
// Algorithm (GCRA): instead of a token count refilled by a timer, it keeps
// one number, the theoretical arrival time (TAT) of the next conforming
// task. A task conforms when now >= TAT - burst_window; admitting it moves
// TAT forward by one emission interval. One CAS, no lock, no refill thread,
// and exact over any window: at most burst + rate * t tasks start in t.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace brisk::detail {

class RateLimiter {
 public:
  // rate_per_second > 0, burst >= 1 (tasks that may start back to back).
  RateLimiter(double rate_per_second, double burst)
      : interval_ns_(static_cast<std::int64_t>(1e9 / rate_per_second)),
        burst_window_ns_(static_cast<std::int64_t>((std::max(1.0, burst) - 1) * 1e9 / rate_per_second)) {}

  // 0 if a task may start now (and it is counted), else how many ns to wait
  // before asking again.
  std::int64_t try_acquire(std::int64_t now_ns) noexcept {
    std::int64_t tat = tat_.load(std::memory_order_relaxed);
    for (;;) {
      const std::int64_t allowed_at = tat - burst_window_ns_;
      if (now_ns < allowed_at) return allowed_at - now_ns;
      const std::int64_t next = std::max(tat, now_ns) + interval_ns_;
      // relaxed: TAT is a self-contained number; no other data rides on it.
      if (tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) return 0;
    }
  }

 private:
  const std::int64_t interval_ns_;
  const std::int64_t burst_window_ns_;
  std::atomic<std::int64_t> tat_{0};
};

}  // namespace brisk::detail

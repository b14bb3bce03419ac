// RateLimiter: a token bucket for one task type, as the Generic Cell Rate
// Algorithm (GCRA): instead of a token count refilled by a timer, it keeps
// one number, the theoretical arrival time (TAT) of the next conforming
// task. A task conforms when now >= TAT - burst_window; admitting it moves
// TAT forward by one emission interval. A task that does not conform
// reserves the next turn instead (see reserve()). One CAS, no lock, no
// refill thread, and exact over any window: at most burst + rate * t tasks
// start in t.
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

  // Gives one task its turn: 0 if it may start now, else how many ns from
  // now its turn comes. Either way the turn is taken (TAT moves on by one
  // interval), so each waiting task holds a turn of its own, one interval
  // after the one before: a backlog of n tasks costs n calls, wakes at the
  // rate and never asks twice (asking again on wake-up instead would wake
  // every waiter at the same instant and let one through: n^2 / 2 asks).
  std::int64_t reserve(std::int64_t now_ns) noexcept {
    std::int64_t tat = tat_.load(std::memory_order_relaxed);
    for (;;) {
      const std::int64_t start = std::max(now_ns, tat - burst_window_ns_);
      const std::int64_t next = std::max(tat, now_ns) + interval_ns_;
      // relaxed: TAT is a self-contained number; no other data rides on it.
      if (tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) return start - now_ns;
    }
  }

 private:
  const std::int64_t interval_ns_;
  const std::int64_t burst_window_ns_;
  std::atomic<std::int64_t> tat_{0};
};

}  // namespace brisk::detail

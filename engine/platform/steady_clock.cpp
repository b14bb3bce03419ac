// brisk::SteadyClock (include/brisk/clock.hpp).
#include <time.h>

#include <chrono>

#include "brisk/clock.hpp"

namespace brisk {

std::int64_t SteadyClock::now_ns() const noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::int64_t SteadyClock::now_coarse_ns() const noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

SteadyClock& SteadyClock::instance() noexcept {
  static SteadyClock clock;
  return clock;
}

}  // namespace brisk

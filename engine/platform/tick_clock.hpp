// TickClock: the hot path's timestamps (a job's submit stamp, its start and
// end on the worker).
//
// Stamps are taken for every job on both sides of the ring, so their cost is
// paid twice per task and, for empty tasks, is a large part of it:
// clock_gettime(CLOCK_MONOTONIC) through the vDSO costs ~22 ns on the
// development VM, RDTSC ~9 ns. So when the engine runs on the real clock and
// the CPU has an invariant TSC (constant rate, ticking in every C-state) that
// the kernel itself trusts as its clocksource (so it is synchronised across
// CPUs), a stamp is a raw TSC value and is converted to nanoseconds only for
// a duration, with a rate calibrated once per process against steady_clock.
// Otherwise (an injected Clock such as the tests' ManualClock, another
// architecture, an unreliable TSC) a stamp is the Clock's nanoseconds and a
// tick is one nanosecond, so behaviour is exactly the Clock's.
//
// Stamps of two threads may be compared: with a synchronised TSC a start on
// one CPU is never meaningfully before a submit on another; callers clamp
// negative differences to 0 all the same.
#pragma once

#include <cstdint>

#include "brisk/clock.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace brisk::detail {

class TickClock {
 public:
  // Uses the TSC only when `clock` is SteadyClock::instance() and the TSC is
  // invariant and the kernel's clocksource.
  explicit TickClock(const Clock& clock);

  std::uint64_t now() const noexcept {
#if defined(__x86_64__) || defined(__i386__)
    if (use_tsc_) return __rdtsc();
#endif
    return static_cast<std::uint64_t>(clock_.now_ns());
  }

  // Nanoseconds in `ticks` ticks (a difference of two stamps).
  std::uint64_t to_ns(std::uint64_t ticks) const noexcept {
    return use_tsc_ ? static_cast<std::uint64_t>(static_cast<double>(ticks) * ns_per_tick_) : ticks;
  }

  // The Clock's time at an earlier stamp (0 for stamp 0, "none").
  std::int64_t time_of(std::uint64_t stamp) const noexcept {
    if (stamp == 0) return 0;
    const std::uint64_t now_ticks = now();
    const std::uint64_t age = now_ticks > stamp ? to_ns(now_ticks - stamp) : 0;
    return clock_.now_ns() - static_cast<std::int64_t>(age);
  }

  // Ticks in `ns` nanoseconds (the inverse of to_ns).
  std::uint64_t to_ticks(std::uint64_t ns) const noexcept {
    return use_tsc_ ? static_cast<std::uint64_t>(static_cast<double>(ns) / ns_per_tick_) : ns;
  }

  bool uses_tsc() const noexcept { return use_tsc_; }

 private:
  const Clock& clock_;
  bool use_tsc_ = false;
  double ns_per_tick_ = 1.0;
};

}  // namespace brisk::detail

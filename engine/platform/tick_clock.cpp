#include "platform/tick_clock.hpp"

#include <chrono>
#include <fstream>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace brisk::detail {

namespace {

// CPUID 0x80000007 EDX bit 8: the TSC runs at a constant rate in every
// P-state and C-state.
bool cpu_has_invariant_tsc() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007u) return false;
  if (__get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (edx & (1u << 8)) != 0;
#else
  return false;
#endif
}

// The kernel uses the TSC for CLOCK_MONOTONIC only after checking that it is
// synchronised across CPUs and stable; we borrow that verdict.
bool kernel_trusts_tsc() {
  std::ifstream in("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::string source;
  return static_cast<bool>(in >> source) && source == "tsc";
}

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// ns per TSC tick, measured over 2 ms against steady_clock (error ~1e-5,
// enough for latencies). 0 when the TSC is not to be used. Once per process.
double tsc_ns_per_tick() {
#if defined(__x86_64__) || defined(__i386__)
  static const double rate = [] {
    if (!cpu_has_invariant_tsc() || !kernel_trusts_tsc()) return 0.0;
    const std::int64_t t0 = steady_ns();
    const std::uint64_t c0 = __rdtsc();
    std::int64_t t1 = t0;
    while ((t1 = steady_ns()) - t0 < 2'000'000) {
    }
    const std::uint64_t c1 = __rdtsc();
    return c1 > c0 ? static_cast<double>(t1 - t0) / static_cast<double>(c1 - c0) : 0.0;
  }();
  return rate;
#else
  return 0.0;
#endif
}

}  // namespace

TickClock::TickClock(const Clock& clock) : clock_(clock) {
  if (&clock != &SteadyClock::instance()) return;  // an injected clock rules
  if (const double rate = tsc_ns_per_tick(); rate > 0) {
    use_tsc_ = true;
    ns_per_tick_ = rate;
  }
}

}  // namespace brisk::detail

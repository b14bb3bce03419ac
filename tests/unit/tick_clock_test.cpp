// TickClock: job stamps must measure the same durations as the engine clock,
// whether they come from the TSC or from the clock itself.
#include "platform/tick_clock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace {

using brisk::detail::TickClock;
using namespace std::chrono_literals;

TEST(TickClock, InjectedClockIsUsedAsIs) {
  brisk::ManualClock manual(5'000);
  const TickClock ticks(manual);
  EXPECT_FALSE(ticks.uses_tsc());
  const std::uint64_t a = ticks.now();
  manual.advance(1234ns);
  EXPECT_EQ(ticks.now() - a, 1234u);
  EXPECT_EQ(ticks.to_ns(1234), 1234u);
}

TEST(TickClock, DurationsAgreeWithSteadyClock) {
  const brisk::SteadyClock& steady = brisk::SteadyClock::instance();
  const TickClock ticks(steady);
  const std::int64_t t0 = steady.now_ns();
  const std::uint64_t s0 = ticks.now();
  std::this_thread::sleep_for(20ms);
  const std::uint64_t s1 = ticks.now();
  const std::int64_t t1 = steady.now_ns();
  // The stamps lie inside [t0, t1]: they may not exceed it by more than the
  // calibration error (1e-5 here; 1% allowed) nor fall short of it by more
  // than the time between the paired reads (preemption: 1 ms allowed).
  const double elapsed = static_cast<double>(t1 - t0);
  const double measured = static_cast<double>(ticks.to_ns(s1 - s0));
  EXPECT_LE(measured, elapsed * 1.01) << "uses_tsc " << ticks.uses_tsc();
  EXPECT_GE(measured, elapsed * 0.99 - 1e6) << "uses_tsc " << ticks.uses_tsc();
}

}  // namespace

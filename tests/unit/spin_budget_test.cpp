// SpinBudget (engine/worker/spin_budget.hpp) fed observations, no threads:
// spinning that wins stays, spinning that loses shrinks, a lost CPU parks
// at once for a hold that grows while the host stays busy and ends when it
// is quiet again.
#include "worker/spin_budget.hpp"

#include <gtest/gtest.h>

namespace brisk::detail {
namespace {

constexpr std::uint64_t kMs = 1'000'000;

// A spin of `polls` polls at 50 ns each ending at now, with this longest gap.
void spin(SpinBudget& b, unsigned polls, bool found, std::uint64_t now, std::uint64_t gap = 50) {
  b.spun(polls, found, polls * 50ull, gap, now);
}

TEST(SpinBudget, StartsAtTheConfiguredBoundAndStaysWhileSpinningWins) {
  SpinBudget b(2000);
  EXPECT_EQ(b.polls(0), 2000u);
  for (int i = 0; i < 100; ++i) spin(b, 300, true, 1000 + i);
  EXPECT_EQ(b.polls(10'000), 2000u);
}

TEST(SpinBudget, LosingSpinsHalveItDownToThePausePhase) {
  SpinBudget b(2000);
  spin(b, 2000, false, 1);
  EXPECT_EQ(b.polls(2), 1000u);
  for (int i = 0; i < 20; ++i) spin(b, b.polls(2), false, 2);
  EXPECT_EQ(b.polls(3), SpinBudget::kMinPolls);
}

TEST(SpinBudget, AShortParkThatALongerSpinWouldHaveCoveredDoublesIt) {
  SpinBudget b(2000);
  for (int i = 0; i < 20; ++i) spin(b, b.polls(1), false, 1);  // 64 polls of 50 ns: 3.2 us
  ASSERT_EQ(b.polls(1), 64u);
  b.woke(100 * kMs);  // a long park: spinning would not have won
  EXPECT_EQ(b.polls(1), 64u);
  b.woke(5'000);  // work came 5 us later: twice the spin (6.4 us) would have caught it
  EXPECT_EQ(b.polls(1), 128u);
  for (int i = 0; i < 10; ++i) b.woke(1);
  EXPECT_EQ(b.polls(1), 2000u);  // never past spin_polls
}

TEST(SpinBudget, ABoundBelowThePausePhaseIsKept) {
  SpinBudget b(1);  // spin_polls = 1: a user who wants no spinning gets none
  spin(b, 1, false, 1);
  b.woke(1);
  EXPECT_EQ(b.polls(2), 1u);
  spin(b, 1, false, 3, SpinBudget::kLostCpuNs);
  EXPECT_EQ(b.polls(4), 1u);
}

TEST(SpinBudget, LosingTheCpuHoldsItToThePausePhaseThenToOnePoll) {
  SpinBudget b(2000);
  const std::uint64_t t = 1000 * kMs;
  spin(b, 500, true, t, SpinBudget::kLostCpuNs);  // even a spin that found work
  EXPECT_TRUE(b.held(t));
  EXPECT_EQ(b.hold_ns(), SpinBudget::kMinHoldNs);
  EXPECT_EQ(b.polls(t + 1), SpinBudget::kMinPolls);  // no sched_yield while held
  // Held spins that lose shrink it to one poll, then park.
  for (int i = 0; i < 10; ++i) spin(b, b.polls(t + 2), false, t + 2);
  EXPECT_EQ(b.polls(t + 3), 1u);
  // The hold ends: spinning at the full budget again.
  EXPECT_EQ(b.polls(t + SpinBudget::kMinHoldNs + 1), 2000u);
}

TEST(SpinBudget, AHeldWorkerKeepsTheFewPollsAFloodNeeds) {
  SpinBudget b(2000);
  const std::uint64_t t = 1000 * kMs;
  spin(b, 10, false, t, SpinBudget::kLostCpuNs);
  for (int i = 0; i < 10; ++i) spin(b, b.polls(t), false, t);
  ASSERT_EQ(b.polls(t), 1u);
  // Work comes right after each park (a producer's flood): short parks
  // double the held budget, and spins that win keep it.
  b.woke(20);
  b.woke(20);
  b.woke(60);
  EXPECT_EQ(b.polls(t), 8u);
  for (int i = 0; i < 100; ++i) spin(b, 3, true, t);
  EXPECT_EQ(b.polls(t), 8u);
  for (int i = 0; i < 10; ++i) b.woke(1);
  EXPECT_EQ(b.polls(t), SpinBudget::kMinPolls);  // never into the yield phase while held
}

TEST(SpinBudget, AHostThatStaysBusyIsProbedLessAndLessOften) {
  SpinBudget b(2000);
  std::uint64_t t = 1000 * kMs;
  std::uint64_t hold = 0;
  for (int probe = 0; probe < 12; ++probe) {
    spin(b, 100, false, t, 3 * kMs);  // each probe after a hold loses the CPU again
    EXPECT_GE(b.hold_ns(), hold);
    hold = b.hold_ns();
    t += hold;  // the hold ends; next probe
  }
  EXPECT_EQ(b.hold_ns(), SpinBudget::kMaxHoldNs);
  EXPECT_EQ(b.cpu_lost_count(), 12u);
  // A gap during the hold extends it without doubling.
  spin(b, 10, false, t - 1, 3 * kMs);
  EXPECT_EQ(b.hold_ns(), SpinBudget::kMaxHoldNs);
  // Quiet for a long while, then one preemption: a short hold again.
  t += 100 * SpinBudget::kMaxHoldNs;
  spin(b, 100, true, t, 3 * kMs);
  EXPECT_EQ(b.hold_ns(), SpinBudget::kMinHoldNs);
}

TEST(SpinBudget, WatchReportsPollsAndTheLongestGap) {
  SpinBudget b(2000);
  SpinWatch w(100);
  w.poll(150);
  w.poll(150 + SpinBudget::kLostCpuNs);
  w.poll(150 + SpinBudget::kLostCpuNs + 40);
  EXPECT_EQ(w.polls, 3u);
  EXPECT_EQ(w.longest, SpinBudget::kLostCpuNs);
  EXPECT_TRUE(w.lost_cpu());
  w.report_to(b, true);
  EXPECT_TRUE(b.held(w.last));
}

}  // namespace
}  // namespace brisk::detail

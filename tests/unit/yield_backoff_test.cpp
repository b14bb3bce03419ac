// YieldBackoff (engine/park/yield_backoff.hpp): when an idle worker stops
// yielding its CPU and parks at once instead (issue 22).
#include "park/yield_backoff.hpp"

#include <gtest/gtest.h>

namespace brisk::detail {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr std::uint64_t kUs = 1'000;

TEST(YieldBackoff, QuickYieldsAndFreshWorkNeverStopYielding) {
  YieldBackoff b;
  std::int64_t now = 5 * kMs;
  for (int i = 0; i < 1000; ++i) {
    now += 10'000;
    // Back quickly with old work (a backlog another worker left), or after a
    // long time with work that is new (our own producer had the CPU).
    EXPECT_FALSE(b.found_after_yield(now, i % 2 == 0 ? 2 * kUs : 3 * kMs, i % 2 == 0 ? 3 * kMs : 5 * kUs, 10, 0));
    EXPECT_TRUE(b.may_yield(now));
  }
}

TEST(YieldBackoff, StrandedWorkParksTheWorkerForABackoffThatDoublesUpToTheCap) {
  YieldBackoff b;
  std::int64_t now = 7 * kMs;
  std::int64_t expected = YieldBackoff::kMinBackoffNs;
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(b.may_yield(now));
    EXPECT_TRUE(b.found_after_yield(now, 4 * kMs, 3 * kMs, 10, 0));
    EXPECT_FALSE(b.may_yield(now));
    EXPECT_FALSE(b.may_yield(now + expected - 1));
    now += expected;
    expected = std::min(expected * 2, YieldBackoff::kMaxBackoffNs);
  }
  EXPECT_EQ(b.backoff_ns(), YieldBackoff::kMaxBackoffNs);
}

TEST(YieldBackoff, BothTheAbsenceAndTheWaitMustBeLong) {
  YieldBackoff b;
  const std::int64_t now = 3 * kMs;
  EXPECT_FALSE(b.found_after_yield(now, YieldBackoff::kLongNs - 1, 10 * kMs, 10, 0));
  EXPECT_FALSE(b.found_after_yield(now, 10 * kMs, YieldBackoff::kLongNs - 1, 10, 0));
  EXPECT_TRUE(b.may_yield(now));
  EXPECT_TRUE(b.found_after_yield(now, YieldBackoff::kLongNs, YieldBackoff::kLongNs, 10, 0));
  EXPECT_FALSE(b.may_yield(now));
}

// A saturating producer keeps a backlog that the other workers work
// through: the work found waited for the backlog, not for this yield, and
// parking would only add wakes.
TEST(YieldBackoff, ABacklogTheOtherWorkersRanIsNotStranded) {
  YieldBackoff b;
  const std::int64_t now = 3 * kMs;
  EXPECT_FALSE(b.found_after_yield(now, 4 * kMs, 3 * kMs, 1000, 500));
  EXPECT_FALSE(b.found_after_yield(now, 4 * kMs, 3 * kMs, 0, 0));  // nothing arrived meanwhile
  EXPECT_TRUE(b.may_yield(now));
  EXPECT_TRUE(b.found_after_yield(now, 4 * kMs, 3 * kMs, 1000, 499));
  EXPECT_FALSE(b.may_yield(now));
}

TEST(YieldBackoff, TheBackoffShrinksOnlyAfterFourBackoffsOfYieldingWithoutAStranding) {
  constexpr std::int64_t kMin = YieldBackoff::kMinBackoffNs;
  YieldBackoff b;
  std::int64_t now = kMs;
  for (int i = 0; i < 3; ++i) {  // kMin, 2 kMin, 4 kMin: the next would be 8 kMin
    b.found_after_yield(now, 4 * kMs, 3 * kMs, 10, 0);
    now += b.backoff_ns() / 2;  // the backoff it parked for, once doubled
  }
  ASSERT_EQ(b.backoff_ns(), 8 * kMin);
  const std::int64_t stranded = now;
  b.found_after_yield(stranded, 4 * kMs, 3 * kMs, 10, 0);  // parks 8 kMin, next 16 kMin
  ASSERT_EQ(b.backoff_ns(), 16 * kMin);
  // Fresh work before four backoffs have passed: a host that is still busy
  // keeps the long backoff.
  EXPECT_FALSE(b.found_after_yield(stranded + 64 * kMin - 1, 2 * kUs, 2 * kUs, 10, 0));
  EXPECT_EQ(b.backoff_ns(), 16 * kMin);
  EXPECT_FALSE(b.found_after_yield(stranded + 64 * kMin, 2 * kUs, 2 * kUs, 10, 0));
  EXPECT_EQ(b.backoff_ns(), 8 * kMin);
  // And again only four (new) backoffs later.
  EXPECT_FALSE(b.found_after_yield(stranded + 64 * kMin + 32 * kMin - 1, 2 * kUs, 2 * kUs, 10, 0));
  EXPECT_EQ(b.backoff_ns(), 8 * kMin);
  EXPECT_FALSE(b.found_after_yield(stranded + 64 * kMin + 32 * kMin, 2 * kUs, 2 * kUs, 10, 0));
  EXPECT_EQ(b.backoff_ns(), 4 * kMin);
  for (int i = 1; i <= 20; ++i) b.found_after_yield(stranded + (100 + 100 * i) * kMin, 2 * kUs, 2 * kUs, 10, 0);
  EXPECT_EQ(b.backoff_ns(), kMin);
}

}  // namespace
}  // namespace brisk::detail

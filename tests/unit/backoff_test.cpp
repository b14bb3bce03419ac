// Retry backoff: the exact exponential schedule without jitter, full jitter
// within [0, ceiling], the cap, and no overflow at any attempt number.
#include "retry/backoff.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <random>

#include "support/test_seed.hpp"

namespace brisk::detail {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

constexpr std::uint64_t kAllOnes = std::numeric_limits<std::uint64_t>::max();

RetryPolicy fixed(std::chrono::milliseconds base, std::chrono::milliseconds cap) {
  return RetryPolicy{.max_attempts = 10, .base = base, .cap = cap, .jitter = false};
}

TEST(RetryBackoff, WithoutJitterTheScheduleIsExactlyExponentialUpToTheCap) {
  const RetryPolicy policy = fixed(100ms, 30s);
  const nanoseconds expected[] = {100ms, 200ms, 400ms, 800ms, 1600ms, 3200ms, 6400ms, 12800ms, 25600ms, 30s, 30s};
  for (std::uint32_t attempt = 1; attempt <= std::size(expected); ++attempt) {
    EXPECT_EQ(retry_delay(policy, attempt, 12345), expected[attempt - 1]) << "attempt " << attempt;
  }
  EXPECT_EQ(retry_delay(policy, 0, 0), 100ms) << "attempt 0 counts as the first failure";
}

TEST(RetryBackoff, CapBelowBaseWins) {
  EXPECT_EQ(retry_delay(fixed(5s, 1s), 1, 0), 1s);
  EXPECT_EQ(retry_delay(fixed(0ms, 1s), 7, 0), 0ns);
  EXPECT_EQ(retry_delay(fixed(100ms, 0ms), 3, 0), 0ns);
}

TEST(RetryBackoff, HugeAttemptNumbersSaturateAtTheCap) {
  for (const std::uint32_t attempt : {63u, 64u, 65u, 1000u, std::numeric_limits<std::uint32_t>::max()}) {
    EXPECT_EQ(retry_delay(fixed(100ms, 30s), attempt, 0), 30s) << attempt;
    RetryPolicy jittered = fixed(100ms, 30s);
    jittered.jitter = true;
    EXPECT_LE(retry_delay(jittered, attempt, kAllOnes), 30s) << attempt;
  }
  // A cap beyond the nanosecond range saturates instead of wrapping.
  const auto forever = std::chrono::milliseconds::max();
  EXPECT_EQ(retry_delay(fixed(forever, forever), 1000, 0), nanoseconds::max());
  EXPECT_EQ(retry_delay(fixed(1ms, forever), 1000, 0), nanoseconds::max());
}

TEST(RetryBackoff, FullJitterStaysWithinZeroAndTheCeiling) {
  const std::uint64_t seed = test::test_seed();
  std::mt19937_64 rng(seed);
  const RetryPolicy policy{.max_attempts = 20, .base = 100ms, .cap = 30s, .jitter = true};
  for (std::uint32_t attempt = 1; attempt <= 20; ++attempt) {
    const nanoseconds ceiling = retry_delay(fixed(policy.base, policy.cap), attempt, 0);
    EXPECT_EQ(retry_delay(policy, attempt, 0), 0ns);
    EXPECT_LE(retry_delay(policy, attempt, kAllOnes), ceiling);
    EXPECT_EQ(retry_delay(policy, attempt, static_cast<std::uint64_t>(ceiling.count())), ceiling)
        << "the ceiling itself is reachable";
    double sum = 0;
    constexpr int kDraws = 10'000;
    for (int i = 0; i < kDraws; ++i) {
      const nanoseconds d = retry_delay(policy, attempt, rng());
      ASSERT_GE(d, 0ns);
      ASSERT_LE(d, ceiling) << "attempt " << attempt;
      sum += static_cast<double>(d.count());
    }
    // Uniform: the mean is half the ceiling (the standard error is 0.3% of
    // the ceiling; 5% is far outside chance).
    EXPECT_NEAR(sum / kDraws, static_cast<double>(ceiling.count()) / 2, 0.05 * static_cast<double>(ceiling.count()))
        << "attempt " << attempt;
  }
}

TEST(RetryBackoff, ShouldRetryUntilMaxAttempts) {
  const RetryPolicy three{.max_attempts = 3};
  EXPECT_TRUE(should_retry(three, 1));
  EXPECT_TRUE(should_retry(three, 2));
  EXPECT_FALSE(should_retry(three, 3));
  EXPECT_FALSE(should_retry(three, 4));
  EXPECT_FALSE(should_retry(RetryPolicy{.max_attempts = 1}, 1)) << "1 means never retry";
  EXPECT_FALSE(should_retry(RetryPolicy{.max_attempts = 0}, 0));
}

}  // namespace
}  // namespace brisk::detail

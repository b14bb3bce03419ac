// RateLimiter (GCRA) on simulated time: bursts, steady rate, reserved turns.
#include "flow/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace brisk::detail {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

TEST(RateLimiter, AllowsBurstThenPaces) {
  RateLimiter limiter(100, 5);  // 100/s, bursts of 5
  const std::int64_t t0 = 10 * kSecond;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.reserve(t0), 0) << i;
  const std::int64_t wait = limiter.reserve(t0);
  EXPECT_GT(wait, 0);
  EXPECT_LE(wait, kSecond / 100);
  // Each later task gets a turn of its own, one interval after the last.
  EXPECT_EQ(limiter.reserve(t0), wait + kSecond / 100);
  EXPECT_EQ(limiter.reserve(t0 + wait), 2 * kSecond / 100) << "a turn taken is not handed out again";
}

TEST(RateLimiter, HoldsRateOverAWindow) {
  RateLimiter limiter(1000, 1);
  std::int64_t now = 5 * kSecond, started = 0;
  const std::int64_t end = now + 2 * kSecond;
  while (now < end) {
    // A task starts at its reserved turn, and the next asks then.
    now += limiter.reserve(now);
    if (now < end) ++started;
  }
  EXPECT_NEAR(static_cast<double>(started), 2000.0, 2000 * 0.05);
}

TEST(RateLimiter, IdleTimeDoesNotBankMoreThanTheBurst) {
  RateLimiter limiter(10, 3);
  EXPECT_EQ(limiter.reserve(kSecond), 0);
  const std::int64_t later = 100 * kSecond;  // long idle
  int allowed = 0;
  while (limiter.reserve(later) == 0) ++allowed;
  EXPECT_EQ(allowed, 3);
}

}  // namespace
}  // namespace brisk::detail

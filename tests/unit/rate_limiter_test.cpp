// RateLimiter (GCRA) on simulated time: bursts, steady rate, waits.
#include "flow/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace brisk::detail {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

TEST(RateLimiter, AllowsBurstThenPaces) {
  RateLimiter limiter(100, 5);  // 100/s, bursts of 5
  const std::int64_t t0 = 10 * kSecond;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.try_acquire(t0), 0) << i;
  const std::int64_t wait = limiter.try_acquire(t0);
  EXPECT_GT(wait, 0);
  EXPECT_LE(wait, kSecond / 100);
  EXPECT_EQ(limiter.try_acquire(t0 + wait), 0) << "must be allowed exactly when told";
}

TEST(RateLimiter, HoldsRateOverAWindow) {
  RateLimiter limiter(1000, 1);
  std::int64_t now = 5 * kSecond, started = 0;
  const std::int64_t end = now + 2 * kSecond;
  while (now < end) {
    const std::int64_t wait = limiter.try_acquire(now);
    if (wait == 0) {
      ++started;
    } else {
      now += wait;
    }
  }
  EXPECT_NEAR(static_cast<double>(started), 2000.0, 2000 * 0.05);
}

TEST(RateLimiter, IdleTimeDoesNotBankMoreThanTheBurst) {
  RateLimiter limiter(10, 3);
  EXPECT_EQ(limiter.try_acquire(kSecond), 0);
  const std::int64_t later = 100 * kSecond;  // long idle
  int allowed = 0;
  while (limiter.try_acquire(later) == 0) ++allowed;
  EXPECT_EQ(allowed, 3);
}

}  // namespace
}  // namespace brisk::detail

// Retry backoff: how long a failed named task waits before its next attempt.
//
// Exponential with full jitter (the AWS Architecture Blog's "Exponential
// Backoff and Jitter"): after the n-th failed attempt the wait is uniform in
// [0, min(cap, base * 2^(n-1))]. Full jitter spreads a burst of failures
// (a dependency that fell over for everyone at once) across the whole window
// instead of sending them back in lockstep.
#pragma once

#include <chrono>
#include <cstdint>

#include "brisk/task.hpp"

namespace brisk::detail {

// The wait before attempt failed_attempt + 1 (failed_attempt >= 1; 0 counts
// as 1). random_bits: 64 uniformly random bits, used only with jitter.
// Saturates instead of overflowing, for any attempt number.
std::chrono::nanoseconds retry_delay(const RetryPolicy& policy, std::uint32_t failed_attempt,
                                     std::uint64_t random_bits) noexcept;

// 64 random bits for retry_delay's jitter: a per-thread xorshift64, seeded
// once per thread from std::random_device. Not for cryptography.
std::uint64_t jitter_bits() noexcept;

// Whether a task that has run attempts_made times (and failed retryably) may
// run again.
inline bool should_retry(const RetryPolicy& policy, std::uint32_t attempts_made) noexcept {
  return attempts_made < policy.max_attempts;
}

}  // namespace brisk::detail

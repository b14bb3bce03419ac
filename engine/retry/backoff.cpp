#include "retry/backoff.hpp"

#include <algorithm>
#include <limits>
#include <random>

namespace brisk::detail {

namespace {

// min(cap, base * 2^doublings) without ever forming a product that overflows.
std::int64_t capped_exponential(std::int64_t base, std::int64_t cap, std::uint32_t doublings) noexcept {
  base = std::max<std::int64_t>(base, 0);
  cap = std::max<std::int64_t>(cap, 0);
  if (base == 0) return 0;
  if (doublings >= 63 || base > (cap >> doublings)) return cap;
  return base << doublings;
}

std::int64_t saturated_ns(std::chrono::milliseconds ms) noexcept {
  constexpr std::int64_t kNsPerMs = 1'000'000;
  constexpr std::int64_t kMaxMs = std::numeric_limits<std::int64_t>::max() / kNsPerMs;
  return ms.count() > kMaxMs ? std::numeric_limits<std::int64_t>::max() : ms.count() * kNsPerMs;
}

}  // namespace

std::chrono::nanoseconds retry_delay(const RetryPolicy& policy, std::uint32_t failed_attempt,
                                     std::uint64_t random_bits) noexcept {
  const std::uint32_t doublings = std::max<std::uint32_t>(failed_attempt, 1) - 1;
  const std::int64_t ceiling = capped_exponential(saturated_ns(policy.base), saturated_ns(policy.cap), doublings);
  if (!policy.jitter) return std::chrono::nanoseconds(ceiling);
  // Uniform over the ceiling + 1 values of [0, ceiling]. The modulo bias is
  // below ceiling / 2^64: under 1e-9 for a 30 s ceiling.
  const auto choices = static_cast<std::uint64_t>(ceiling) + 1;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(random_bits % choices));
}

std::uint64_t jitter_bits() noexcept {
  thread_local std::uint64_t state = [] {
    std::uint64_t seed = std::random_device{}();
    seed = seed << 32 | std::random_device{}();
    return seed | 1;  // xorshift's state must not be 0
  }();
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

}  // namespace brisk::detail

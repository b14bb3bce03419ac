#include "metrics/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace brisk::metrics {

void HistogramSnapshot::merge(const LatencyHistogram& h) noexcept {
  // Relaxed loads: each returns a value the counter really held; see the
  // header for why no ordering between counters is needed. count_ is the sum
  // of the buckets read, so count() and percentile() always agree.
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    const std::uint64_t c = h.counts_[i].load(std::memory_order_relaxed);
    counts_[i] += c;
    count_ += c;
  }
  sum_ += h.sum_.load(std::memory_order_relaxed);
  max_ = std::max(max_, h.max_.load(std::memory_order_relaxed));
}

void HistogramSnapshot::merge(const HistogramSnapshot& other) noexcept {
  for (std::size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

std::uint64_t HistogramSnapshot::percentile(double p) const noexcept {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  const auto rank = std::clamp<std::uint64_t>(
      static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_))), 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(bucket_lower(i) + bucket_width(i) / 2, max_);
  }
  return max_;  // unreachable while count_ is the sum of counts_
}

std::uint64_t HistogramSnapshot::count_at_or_below(std::uint64_t v) const noexcept {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < kBucketCount && bucket_lower(i) + bucket_width(i) - 1 <= v; ++i) {
    total += counts_[i];
  }
  return total;
}

}  // namespace brisk::metrics

// LatencyHistogram: a log-linear histogram of nanosecond durations, recorded
// by one thread without locks and read (merged) by any other thread.
//
// Buckets (HdrHistogram's layout with 32 sub-buckets per power of two):
//   values 0..63 have a bucket each (exact);
//   from 64 on, each range [2^k, 2^(k+1)) is split into 32 equal buckets of
//   width 2^(k-5).
// A bucket's width is at most 1/32 of its lower bound, and percentile()
// reports the bucket's midpoint, so a reported value v' for a true sample v
// satisfies |v' - v| <= v / 64 (kRelativeError, about 1.6%). Values above
// kMaxTrackable (2^42 - 1 ns, about 73 minutes) count in the last bucket;
// max() stays exact.
//
// Concurrency: exactly one thread (the owning worker) calls record(). Every
// counter is a std::atomic written with relaxed load + relaxed store, never a
// read-modify-write: with one writer there is no lost update to guard
// against, and an aligned 64-bit relaxed load/store is a plain mov on x86-64
// and ARM64. A reader calling HistogramSnapshot::merge() concurrently sees,
// for each counter, some value it really held (atomics do not tear and there
// is no data race), which is all it needs: it does not use the counters to
// find other memory, so no acquire/release pairing is required. The price is
// that one merged snapshot may include a record in one counter (a bucket)
// and not yet in another (sum); the skew is bounded by the records in flight
// during the read, which any lock-free reader of a live histogram accepts.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace brisk::metrics {

inline constexpr int kSubBucketBits = 5;  // 32 sub-buckets per power of two
inline constexpr std::uint64_t kSubBuckets = std::uint64_t{1} << kSubBucketBits;
inline constexpr std::uint64_t kMaxTrackable = (std::uint64_t{1} << 42) - 1;
// Bound on |reported - true| / true for any percentile (see above).
inline constexpr double kRelativeError = 1.0 / (2.0 * kSubBuckets);

// Bucket of value v: shift = max(msb(v) - 5, 0); index = (shift << 5) + (v >> shift).
// For v < 64 the shift is 0 and the index is v itself.
constexpr std::size_t bucket_index(std::uint64_t v) noexcept {
  v = v < kMaxTrackable ? v : kMaxTrackable;
  const int msb = static_cast<int>(std::bit_width(v)) - 1;  // -1 for v == 0
  const int shift = msb > kSubBucketBits ? msb - kSubBucketBits : 0;
  return (static_cast<std::size_t>(shift) << kSubBucketBits) + static_cast<std::size_t>(v >> shift);
}

inline constexpr std::size_t kBucketCount = bucket_index(kMaxTrackable) + 1;

// Smallest value that falls in bucket i, and the bucket's width.
constexpr std::uint64_t bucket_lower(std::size_t i) noexcept {
  if (i < 2 * kSubBuckets) return i;
  const int shift = static_cast<int>(i >> kSubBucketBits) - 1;
  return (kSubBuckets + (i & (kSubBuckets - 1))) << shift;
}
constexpr std::uint64_t bucket_width(std::size_t i) noexcept {
  return i < 2 * kSubBuckets ? 1 : std::uint64_t{1} << ((i >> kSubBucketBits) - 1);
}

class LatencyHistogram {
 public:
  LatencyHistogram() = default;
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  // Owner thread only. No allocation, no lock, no read-modify-write.
  // `count` samples of the same value (a group timed as one).
  void record(std::uint64_t ns, std::uint64_t count = 1) noexcept {
    bump(counts_[bucket_index(ns)], count);
    bump(sum_, ns * count);
    if (ns > max_.load(std::memory_order_relaxed)) max_.store(ns, std::memory_order_relaxed);
  }

 private:
  friend class HistogramSnapshot;

  // Relaxed suffices: this thread is the only writer (see header comment).
  static void bump(std::atomic<std::uint64_t>& c, std::uint64_t by) noexcept {
    c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  std::array<std::atomic<std::uint64_t>, kBucketCount> counts_{};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> max_{0};
};

// A plain (non-atomic) sum of histograms, built on the reading thread.
class HistogramSnapshot {
 public:
  // Adds a live histogram's counters (safe while its owner records).
  void merge(const LatencyHistogram& h) noexcept;
  void merge(const HistogramSnapshot& other) noexcept;

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t sum() const noexcept { return sum_; }
  std::uint64_t max() const noexcept { return max_; }
  double mean() const noexcept { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }

  // The value at percentile p in [0, 100] (p99.9 is percentile(99.9)):
  // the midpoint of the bucket holding the sample of rank ceil(p/100 *
  // count), capped at max(). Within kRelativeError of that sample; 0 when
  // empty.
  std::uint64_t percentile(double p) const noexcept;

  // Samples whose bucket lies entirely at or below v: exact when v + 1 is a
  // bucket boundary, otherwise short by at most the samples of v's bucket.
  // For cumulative exposition buckets (Prometheus "le").
  std::uint64_t count_at_or_below(std::uint64_t v) const noexcept;

  std::uint64_t bucket_count(std::size_t i) const noexcept { return counts_[i]; }

 private:
  std::array<std::uint64_t, kBucketCount> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace brisk::metrics

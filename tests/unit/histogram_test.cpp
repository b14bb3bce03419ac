#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "metrics/latency_histogram.hpp"
#include "support/test_seed.hpp"

namespace brisk::metrics {
namespace {

// Log-uniform over 1 ns .. ~1 hour: every octave equally likely, as latencies are.
std::uint64_t log_uniform(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> exponent(0.0, std::log2(3.6e12));
  return static_cast<std::uint64_t>(std::exp2(exponent(rng)));
}

TEST(LatencyHistogram, BucketsTileTheRangeWithBoundedWidth) {
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    const std::uint64_t lo = bucket_lower(i), w = bucket_width(i);
    ASSERT_EQ(bucket_index(lo), i);
    ASSERT_EQ(bucket_index(lo + w - 1), i);
    if (i + 1 < kBucketCount) {
      ASSERT_EQ(bucket_lower(i + 1), lo + w) << i;
    }
    ASSERT_LE(w, std::max<std::uint64_t>(1, lo / kSubBuckets)) << i;
  }
  EXPECT_EQ(bucket_lower(kBucketCount - 1) + bucket_width(kBucketCount - 1) - 1, kMaxTrackable);
  EXPECT_EQ(bucket_index(UINT64_MAX), kBucketCount - 1);
}

TEST(LatencyHistogram, EmptySnapshotIsZero) {
  LatencyHistogram h;
  HistogramSnapshot s;
  s.merge(h);
  EXPECT_EQ(s.count(), 0u);
  EXPECT_EQ(s.percentile(99), 0u);
  EXPECT_EQ(s.mean(), 0.0);
}

TEST(LatencyHistogram, PercentilesMatchSortedSamplesWithinBucketError) {
  std::mt19937_64 rng(test::test_seed());
  LatencyHistogram h;
  std::vector<std::uint64_t> raw(200'000);
  std::uint64_t sum = 0;
  for (auto& v : raw) {
    v = log_uniform(rng);
    h.record(v);
    sum += v;
  }
  std::sort(raw.begin(), raw.end());
  HistogramSnapshot s;
  s.merge(h);
  EXPECT_EQ(s.count(), raw.size());
  EXPECT_EQ(s.sum(), sum);
  EXPECT_EQ(s.max(), raw.back());
  EXPECT_DOUBLE_EQ(s.mean(), static_cast<double>(sum) / raw.size());
  for (const double p : {0.0, 1.0, 25.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(p / 100 * raw.size())));
    const double truth = static_cast<double>(raw[rank - 1]);
    const double got = static_cast<double>(s.percentile(p));
    EXPECT_LE(std::abs(got - truth), truth * kRelativeError) << "p" << p << " truth " << truth << " got " << got;
  }
  EXPECT_EQ(s.percentile(100), raw.back());
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (std::uint64_t v = 0; v < 64; ++v) h.record(v);
  HistogramSnapshot s;
  s.merge(h);
  EXPECT_EQ(s.percentile(50), 31u);
  EXPECT_EQ(s.percentile(100), 63u);
  EXPECT_EQ(s.count_at_or_below(9), 10u);
}

TEST(LatencyHistogram, ValuesBeyondRangeKeepExactMax) {
  LatencyHistogram h;
  h.record(UINT64_MAX / 2);
  h.record(10);
  HistogramSnapshot s;
  s.merge(h);
  EXPECT_EQ(s.count(), 2u);
  EXPECT_EQ(s.max(), UINT64_MAX / 2);
  EXPECT_EQ(s.count_at_or_below(10), 1u);
  EXPECT_EQ(s.count_at_or_below(kMaxTrackable), 2u);
}

TEST(LatencyHistogram, SnapshotsMerge) {
  LatencyHistogram a, b;
  a.record(100);
  b.record(1'000'000);
  HistogramSnapshot sa, sb;
  sa.merge(a);
  sb.merge(b);
  sa.merge(sb);
  EXPECT_EQ(sa.count(), 2u);
  EXPECT_EQ(sa.sum(), 1'000'100u);
  EXPECT_EQ(sa.max(), 1'000'000u);
}

// Each thread owns a histogram (one writer); a reader merges all of them
// while they record. Counts seen by the reader only grow; the final merge is exact.
TEST(LatencyHistogram, ConcurrentRecordAndMerge) {
  const std::uint64_t seed = test::test_seed();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50'000;
  std::vector<LatencyHistogram> hs(kThreads);
  std::vector<std::uint64_t> sums(kThreads);
  std::atomic<int> done{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937_64 rng(seed + t);
      std::uint64_t sum = 0;
      for (int i = 0; i < kPerThread; ++i) {
        const std::uint64_t v = log_uniform(rng);
        hs[t].record(v);
        sum += v;
      }
      sums[t] = sum;
      done.fetch_add(1, std::memory_order_release);
    });
  }
  std::uint64_t last = 0;
  while (done.load(std::memory_order_acquire) < kThreads) {
    HistogramSnapshot s;
    for (const auto& h : hs) s.merge(h);
    ASSERT_GE(s.count(), last);
    ASSERT_LE(s.count(), std::uint64_t{kThreads} * kPerThread);
    last = s.count();
    (void)s.percentile(99);
  }
  for (auto& w : writers) w.join();
  HistogramSnapshot s;
  for (const auto& h : hs) s.merge(h);
  EXPECT_EQ(s.count(), std::uint64_t{kThreads} * kPerThread);
  std::uint64_t sum = 0;
  for (const auto v : sums) sum += v;
  EXPECT_EQ(s.sum(), sum);
}

}  // namespace
}  // namespace brisk::metrics

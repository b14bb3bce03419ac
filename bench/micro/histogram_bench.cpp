// Cost of LatencyHistogram::record on the owning thread, and of a merge.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "metrics/latency_histogram.hpp"

namespace {

using brisk::metrics::HistogramSnapshot;
using brisk::metrics::LatencyHistogram;

// Log-uniform latencies 1 ns .. 1 h, precomputed so the loop times record() alone.
std::vector<std::uint64_t> samples() {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> exponent(0.0, std::log2(3.6e12));
  std::vector<std::uint64_t> v(4096);
  for (auto& x : v) x = static_cast<std::uint64_t>(std::exp2(exponent(rng)));
  return v;
}

void BM_HistogramRecord(benchmark::State& state) {
  const auto values = samples();
  LatencyHistogram h;
  std::size_t i = 0;
  for (auto _ : state) {
    h.record(values[i++ & 4095]);
  }
  benchmark::DoNotOptimize(&h);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecord);

void BM_HistogramMerge(benchmark::State& state) {
  const auto values = samples();
  LatencyHistogram h;
  for (const auto v : values) h.record(v);
  for (auto _ : state) {
    HistogramSnapshot s;
    s.merge(h);
    benchmark::DoNotOptimize(s.percentile(99));
  }
}
BENCHMARK(BM_HistogramMerge);

}  // namespace

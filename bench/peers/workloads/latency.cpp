#include "workloads/latency.hpp"

#include <stdexcept>

namespace peers {

namespace {

double at(const std::vector<std::int64_t>& sorted, double q) {
  const auto i = std::min(sorted.size() - 1, static_cast<std::size_t>(q * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[i]) / 1e3;
}

}  // namespace

LatencyRun summarize(std::vector<std::int64_t>& latencies_ns, double offered, double post_seconds,
                     double drain_ms) {
  if (latencies_ns.empty()) throw std::invalid_argument("latency run with no samples");
  std::sort(latencies_ns.begin(), latencies_ns.end());
  if (latencies_ns.front() < 0) throw std::runtime_error("latency run: a task never recorded its start");
  LatencyRun r;
  r.offered = offered;
  r.achieved = static_cast<double>(latencies_ns.size()) / post_seconds;
  r.drain_ms = drain_ms;
  const double planned = static_cast<double>(latencies_ns.size()) / offered;
  r.sustained = post_seconds <= planned * kScheduleSlack && drain_ms <= kDrainLimitMs;
  r.p50_us = at(latencies_ns, 0.50);
  r.p99_us = at(latencies_ns, 0.99);
  r.p999_us = at(latencies_ns, 0.999);
  r.max_us = static_cast<double>(latencies_ns.back()) / 1e3;
  // 200 evenly spaced points, then the tail in finer steps, for the CDF plot.
  for (int i = 1; i <= 200; ++i) r.cdf.emplace_back(i / 200.0, at(latencies_ns, i / 200.0 - 1e-9));
  for (double q : {0.999, 0.9999}) r.cdf.emplace_back(q, at(latencies_ns, q));
  std::sort(r.cdf.begin(), r.cdf.end());
  return r;
}

}  // namespace peers

// Data files for scripts/peers.sh's gnuplot: one CDF file per offered rate
// (columns: fraction, then one latency column per system, from each system's
// median-p99 run) and one throughput file (a row per workload, a column per
// system, medians in million tasks/s).
#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "report/results.hpp"

namespace peers {

namespace {

std::ofstream open(const std::string& path) {
  std::ofstream f(path);
  if (!f) throw std::runtime_error("cannot write " + path);
  return f;
}

// The run whose p99 is the median one: a real curve, not a blend of runs.
const LatencyRun& median_run(const std::vector<LatencyRun>& runs) {
  std::vector<const LatencyRun*> order;
  for (const LatencyRun& r : runs) order.push_back(&r);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->p99_us < b->p99_us; });
  return *order[order.size() / 2];
}

}  // namespace

void write_plot_data(const Results& r, const std::string& dir) {
  for (const LatencyResult& l : r.latency) {
    std::ofstream f = open(dir + "/latency_cdf_" + std::to_string(static_cast<long>(l.rate)) + ".tsv");
    f << "fraction";
    for (auto name : r.systems) f << '\t' << name;
    f << '\n';
    std::vector<const LatencyRun*> runs;
    for (const auto& per : l.per_system) runs.push_back(&median_run(per));
    for (std::size_t k = 0; k < runs[0]->cdf.size(); ++k) {
      f << runs[0]->cdf[k].first;
      for (const LatencyRun* run : runs) f << '\t' << run->cdf[k].second;
      f << '\n';
    }
  }
  std::ofstream f = open(dir + "/throughput.tsv");
  f << "workload";
  for (auto name : r.systems) f << '\t' << name;
  f << '\n';
  for (const ThroughputResult& t : r.throughput) {
    f << '"' << t.spec.title << '"';
    for (const Samples& s : t.per_system) f << '\t' << s.median() / 1e6;
    f << '\n';
  }
}

}  // namespace peers

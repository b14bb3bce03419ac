// Everything one program run measured, raw, before it is printed or saved.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hardware/hardware.hpp"
#include "workloads/latency.hpp"
#include "workloads/spec.hpp"

namespace peers {

// The repetitions of one measurement; medians are what we compare.
struct Samples {
  std::vector<double> values;

  double median() const { return quantile(0.5); }
  double min() const { return values.empty() ? 0 : *std::min_element(values.begin(), values.end()); }
  double max() const { return values.empty() ? 0 : *std::max_element(values.begin(), values.end()); }

 private:
  double quantile(double q) const {
    if (values.empty()) return 0;
    std::vector<double> v = values;
    std::sort(v.begin(), v.end());
    const double pos = q * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(pos);
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
  }
};

struct ThroughputResult {
  Spec spec;
  std::vector<Samples> per_system;  // tasks/s, indexed like Results::systems
  // CPUs' worth of time the busy threads got beside each system (--busy;
  // empty for a quiet system).
  std::vector<Samples> host_cpus;
};

struct LatencyResult {
  double rate = 0;
  std::vector<std::vector<LatencyRun>> per_system;  // one LatencyRun per repetition

  // The median over repetitions of one field of LatencyRun.
  template <class Field>
  static Samples field(const std::vector<LatencyRun>& runs, Field f) {
    Samples s;
    for (const LatencyRun& r : runs) s.values.push_back(r.*f);
    return s;
  }
};

struct ScalingResult {
  std::uint64_t tasks = 0;
  Samples tasks_per_s;
};

struct Meta {
  std::string date, host, kernel, cpu, compiler, flags;
  unsigned cpus = 0, threads = 0;
  int repetitions = 0;
  bool short_mode = false;
  int pin_brisk = -1;  // -1: brisk's default placement, 0: unpinned, 1: pinned
  unsigned busy = 0;   // busy threads beside the systems marked busy (--busy)
  double spin_1us_iters = 0, spin_10us_iters = 0;
};

struct Results {
  Meta meta;
  std::vector<std::string_view> systems;  // systems[0] is brisk
  std::vector<unsigned> busy;             // per system: busy threads beside it (0: a quiet host)
  // The brisk column a system's ratios compare with: brisk on the same host.
  std::size_t brisk_for(std::size_t i) const {
    for (std::size_t j = 0; j < systems.size(); ++j) {
      if (systems[j].substr(0, 5) == "brisk" && busy[j] == busy[i]) return j;
    }
    return 0;
  }
  std::vector<ThroughputResult> throughput;
  std::vector<LatencyResult> latency;
  std::vector<ScalingResult> scaling;
  PingPong ping_pong;
  DiskLimits disk;
};

void print_report(const Results& results);
void write_json(const Results& results, const std::string& path);
// Tab-separated files gnuplot reads: latency CDFs and throughput per workload.
void write_plot_data(const Results& results, const std::string& dir);

}  // namespace peers

// What a run measures and how big each measurement is, in the full mode
// (docs/perf.md numbers) and the short mode (CI: does it run, < 30 s).
#pragma once

#include <cstdint>
#include <vector>

#include "workloads/latency.hpp"
#include "workloads/spec.hpp"

namespace peers {

struct Plan {
  std::vector<Spec> throughput;
  std::vector<LatencySpec> latency;
  std::vector<std::uint64_t> scaling;  // brisk task counts
  std::uint64_t ping_pong_trips = 0;
  int ping_pong_runs = 0;
  int fdatasync_appends = 0;
  int write_mib = 0;
};

Plan make_plan(bool short_mode, std::uint64_t spin_1us, std::uint64_t spin_10us);

}  // namespace peers

// How dear a cache line is to move between the two CPUs the benchmarks run
// on. On a VM it is not a constant: the host may place the vCPUs on two
// hyperthreads of one core (tens of ns a round trip) or on two cores (several
// times that), and may move them while a benchmark runs. brisk's throughput
// follows it, so the benchmarks measure and report it beside their results.
#pragma once

#include <cstdint>

namespace bench_common {

struct PingPong {
  double round_trip_ns = 0;  // median over runs: one cache line there and back
  double min_ns = 0, max_ns = 0;
};

// Two threads pinned to the first and last allowed CPU bounce one atomic; a
// round trip is two cache-line transfers between them. Leaves the calling
// thread's affinity alone.
PingPong cache_line_ping_pong(std::uint64_t round_trips, int runs);

}  // namespace bench_common

// The type-erased face of one system: main() iterates over these. Each
// adapter file instantiates every workload for its own type (static dispatch,
// so no system pays a virtual call or an extra type erasure per task).
//
// An adapter S provides:
//   static constexpr std::string_view kName;
//   explicit S(const RunConfig&);          // starts the workers
//   template <class F> void post(F);        // from a producer; waits if the peer pushes back
//   template <class F> void spawn(F);       // from inside a task
//   template <class It> void post_bulk(It, It);
//   void wait_idle();                      // every task posted so far has run
//   ~S();                                  // stops the workers
#pragma once

#include <string_view>
#include <vector>

#include "run_config.hpp"
#include "workloads/latency.hpp"
#include "workloads/run.hpp"

namespace peers {

struct SystemEntry {
  std::string_view name;
  double (*throughput)(const Spec&, const RunConfig&);  // tasks/s
  LatencyRun (*latency)(const LatencySpec&, const RunConfig&);
  unsigned busy = 0;  // busy threads beside it (--busy): the same system on a busy host
};

template <class S>
SystemEntry make_entry() {
  return {S::kName, &run_throughput<S>, &run_latency<S>};
}

// brisk first: tables and ratios are relative to it.
std::vector<SystemEntry> all_systems();

}  // namespace peers

// Runs one Spec on system S: a fresh instance, a discarded warm-up at a
// quarter of the size (threads awake, queues and allocators grown), then the
// measured run.
#pragma once

#include <algorithm>
#include <cstdint>

#include "run_config.hpp"
#include "spin_work.hpp"
#include "workloads/fanout.hpp"
#include "workloads/spec.hpp"
#include "workloads/throughput.hpp"

namespace peers {

template <class S>
double run_spec(S& sys, const Spec& spec, std::uint64_t tasks) {
  switch (spec.kind) {
    case Kind::empty: return produce(sys, tasks, spec.producers, [] {});
    case Kind::bulk: return produce_bulk(sys, tasks);
    case Kind::work: {
      const std::uint64_t iters = spec.spin_iters;
      return produce(sys, tasks, spec.producers, [iters] { spin(iters); });
    }
    case Kind::fanout: return fan_out(sys, tasks);
    case Kind::payload: return produce_payload(sys, tasks, spec.payload);
  }
  return 0;
}

template <class S>
double run_throughput(const Spec& spec, const RunConfig& run) {
  S sys(run);
  run_spec(sys, spec, std::max<std::uint64_t>(spec.tasks / 4, 1));
  return run_spec(sys, spec, spec.tasks);
}

}  // namespace peers

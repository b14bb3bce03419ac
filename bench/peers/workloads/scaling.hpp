// How brisk's cost grows with work: empty-task throughput and ns/task as the
// task count grows by decades (brisk only: its rings are bounded, so even 1e8
// tasks use constant memory; the unbounded peer queues would just measure
// paging). Payload size is a peer workload (Kind::payload), since every
// system pays for copying captures.
#pragma once

#include <cstdint>
#include <string>

#include "workloads/spec.hpp"

namespace peers {

inline Spec scaling_spec(std::uint64_t tasks) {
  return Spec{"scale_" + std::to_string(tasks), "empty tasks, 1 producer, " + std::to_string(tasks),
              Kind::empty, tasks, 1, 0, 0};
}

}  // namespace peers

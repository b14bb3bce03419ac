// Shard: one worker's rings, one bounded MPMC ring per priority lane.
//
// Producers push to their affine shard (falling back to others when it is
// full); the owning worker drains it first and other workers steal from it.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "brisk/detail/job.hpp"
#include "ring/mpmc_ring.hpp"

namespace brisk::detail {

using JobRing = MpmcRing<Job>;

class Shard {
 public:
  Shard(unsigned lanes, std::size_t ring_capacity) {
    rings_.reserve(lanes);
    for (unsigned i = 0; i < lanes; ++i) rings_.push_back(std::make_unique<JobRing>(ring_capacity));
  }

  JobRing& lane(std::size_t i) noexcept { return *rings_[i]; }
  const JobRing& lane(std::size_t i) const noexcept { return *rings_[i]; }
  std::size_t lanes() const noexcept { return rings_.size(); }

  std::size_t depth() const noexcept {
    std::size_t n = 0;
    for (const auto& r : rings_) n += r->size_approx();
    return n;
  }

 private:
  std::vector<std::unique_ptr<JobRing>> rings_;
};

}  // namespace brisk::detail

// Shard: one worker's rings, one bounded MPMC ring per priority lane, and
// the worker's task overflow (EngineConfig::task_overflow_per_worker).
//
// Producers push to their affine shard (falling back to others when it is
// full); the owning worker drains it first and other workers steal from it.
//
// The overflow takes what the worker's own tasks post or submit once every
// ring of their lane is full, so that a task that fans out is not refused
// while it has room. Its producer is the worker's thread (and, after a hard
// limit's replacement, the stuck thread too), its consumers the owner
// (first, before any lane) and thieves: the same bounded MPMC ring as the
// lanes. A per-worker single-producer deque would save the producer's CAS
// on the tail, but thieves make the pop side concurrent anyway, the
// replacement case makes the producer side concurrent too, and this ring is
// stress-tested, never allocates after construction, and bounds itself; its
// jobs are counted by the same head/tail that drain() waits on. Measured
// against a single-producer structure: not done.
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
  // overflow_capacity: 0 (none) or a power of two.
  Shard(unsigned lanes, std::size_t ring_capacity, std::size_t overflow_capacity) : lanes_(lanes) {
    rings_.reserve(lanes + 1);
    for (unsigned i = 0; i < lanes; ++i) rings_.push_back(std::make_unique<JobRing>(ring_capacity));
    if (overflow_capacity != 0) rings_.push_back(std::make_unique<JobRing>(overflow_capacity));
  }

  // Priority lanes: 0..lanes().
  JobRing& lane(std::size_t i) noexcept { return *rings_[i]; }
  const JobRing& lane(std::size_t i) const noexcept { return *rings_[i]; }
  std::size_t lanes() const noexcept { return lanes_; }
  // The worker's task overflow, or nullptr when there is none.
  JobRing* overflow() noexcept { return rings_.size() > lanes_ ? rings_.back().get() : nullptr; }
  const JobRing* overflow() const noexcept { return rings_.size() > lanes_ ? rings_.back().get() : nullptr; }
  // Every ring: the lanes, then the overflow. What drain(), the search for
  // work and the counts of accepted jobs walk.
  JobRing& ring(std::size_t i) noexcept { return *rings_[i]; }
  const JobRing& ring(std::size_t i) const noexcept { return *rings_[i]; }
  std::size_t rings() const noexcept { return rings_.size(); }

  std::size_t depth() const noexcept {
    std::size_t n = 0;
    for (const auto& r : rings_) n += r->size_approx();
    return n;
  }

 private:
  std::size_t lanes_;
  std::vector<std::unique_ptr<JobRing>> rings_;
};

}  // namespace brisk::detail

// ShardSet: every worker's Shard, and the one way a job gets into them.
//
// A job goes to the ring of its priority lane in its home shard (the
// worker's own when a worker of this engine submits, else one picked by the
// thread's number), or, when that ring is full, the next shard's; then an
// idle worker is woken. A producer that must do something that can still
// fail once it knows there is room (log the task) claims the position
// first and publishes into it after (MpmcRing::try_claim). A worker's own
// task whose lane is full everywhere may take a position in the worker's
// overflow instead (claim_overflow; see shard.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "brisk/detail/job.hpp"
#include "brisk/task.hpp"
#include "park/idle_workers.hpp"
#include "shard/shard.hpp"

namespace brisk::detail {

class ShardSet {
 public:
  // A claimed ring position: room held until publish().
  struct Slot {
    JobRing* ring = nullptr;
    JobRing::Claim claim;
    explicit operator bool() const noexcept { return ring != nullptr; }
  };

  ShardSet(unsigned shards, unsigned lanes, std::size_t ring_capacity, std::size_t overflow_capacity,
           IdleWorkers& idle);

  // home: the submitting worker's index, or kNoHome for any other thread.
  static constexpr std::size_t kNoHome = ~std::size_t{0};

  Slot claim(Priority priority, std::size_t home) noexcept;
  // A position in worker `home`'s overflow (home: a worker's index), or none
  // when it is full or there is no overflow.
  Slot claim_overflow(std::size_t home) noexcept;
  void publish(Slot slot, Job&& job) noexcept;
  // claim + publish in one call; false (job untouched) when every ring of
  // the lane is full. What post() uses: one call with the claim and the
  // publish inlined together, not two calls from Admission. Measured: the
  // two calls made post() 0.6x as fast (BM_Post 5.4M vs 8.8M/s, docs/perf.md),
  // nearly all of it on the ring's tail CAS. Why so much is not proven; the
  // likely cause is the longer window between the CAS and the publish, in
  // which workers see a claimed slot that is not ready yet.
  bool push(Job& job, Priority priority, std::size_t home) noexcept;
  // Pushes jobs[0..count) in bulk claims, home shard first; returns how many
  // were taken (a prefix).
  std::size_t push_bulk(Job* jobs, std::size_t count, Priority priority, std::size_t home) noexcept;

  Shard& operator[](std::size_t i) noexcept { return *shards_[i]; }
  const Shard& operator[](std::size_t i) const noexcept { return *shards_[i]; }
  std::size_t size() const noexcept { return shards_.size(); }
  // Jobs ever claimed into every ring: what drain() waits for the workers to reach.
  std::uint64_t total_tail() const noexcept;
  // Jobs ever taken from every ring (an idle worker's view of whether the
  // others are running what arrives; reads every ring's head: not hot).
  std::uint64_t total_head() const noexcept;
  // Jobs waiting in the workers' overflows now (approximate while they move).
  std::uint64_t overflow_depth() const noexcept;

 private:
  std::size_t first_shard(std::size_t home) const noexcept;

  std::vector<std::unique_ptr<Shard>> shards_;
  IdleWorkers& idle_;
};

}  // namespace brisk::detail

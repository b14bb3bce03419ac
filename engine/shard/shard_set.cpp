#include "shard/shard_set.hpp"

#include "platform/thread_number.hpp"

namespace brisk::detail {

ShardSet::ShardSet(unsigned shards, unsigned lanes, std::size_t ring_capacity, std::size_t overflow_capacity,
                   IdleWorkers& idle)
    : idle_(idle) {
  shards_.reserve(shards);
  for (unsigned i = 0; i < shards; ++i) {
    shards_.push_back(std::make_unique<Shard>(lanes, ring_capacity, overflow_capacity));
  }
}

std::size_t ShardSet::first_shard(std::size_t home) const noexcept {
  return home < shards_.size() ? home : this_thread_number() % shards_.size();
}

ShardSet::Slot ShardSet::claim(Priority priority, std::size_t home) noexcept {
  const std::size_t first = first_shard(home);
  const std::size_t n = shards_.size();
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t s = first + k;
    if (s >= n) s -= n;
    JobRing& ring = shards_[s]->lane(priority);
    if (JobRing::Claim claimed = ring.try_claim()) return {&ring, claimed};
  }
  return {};
}

ShardSet::Slot ShardSet::claim_overflow(std::size_t home) noexcept {
  JobRing* ring = home < shards_.size() ? shards_[home]->overflow() : nullptr;
  if (ring == nullptr) return {};
  if (JobRing::Claim claimed = ring->try_claim()) return {ring, claimed};
  return {};
}

void ShardSet::publish(Slot slot, Job&& job) noexcept {
  slot.ring->publish(slot.claim, std::move(job));
  idle_.notify_work();
}

bool ShardSet::push(Job& job, Priority priority, std::size_t home) noexcept {
  const Slot slot = claim(priority, home);
  if (!slot) return false;
  publish(slot, std::move(job));
  return true;
}

std::size_t ShardSet::push_bulk(Job* jobs, std::size_t count, Priority priority, std::size_t home) noexcept {
  const std::size_t first = first_shard(home);
  const std::size_t n = shards_.size();
  std::size_t accepted = 0;
  for (std::size_t k = 0; k < n && accepted < count; ++k) {
    std::size_t s = first + k;
    if (s >= n) s -= n;
    JobRing& ring = shards_[s]->lane(priority);
    // A shard may take the batch in several claims when it is nearly full.
    while (accepted < count) {
      const std::size_t took = ring.try_push_bulk(jobs + accepted, count - accepted);
      if (took == 0) break;
      accepted += took;
    }
  }
  if (accepted != 0) idle_.notify_work();
  return accepted;
}

std::uint64_t ShardSet::total_tail() const noexcept {
  std::uint64_t sum = 0;
  for (const auto& shard : shards_) {
    for (std::size_t r = 0; r < shard->rings(); ++r) sum += shard->ring(r).tail();
  }
  return sum;
}

std::uint64_t ShardSet::total_head() const noexcept {
  std::uint64_t sum = 0;
  for (const auto& shard : shards_) {
    for (std::size_t r = 0; r < shard->rings(); ++r) sum += shard->ring(r).head();
  }
  return sum;
}

std::uint64_t ShardSet::overflow_depth() const noexcept {
  std::uint64_t sum = 0;
  for (const auto& shard : shards_) {
    if (const JobRing* ring = shard->overflow()) sum += ring->size_approx();
  }
  return sum;
}

}  // namespace brisk::detail

#include "status/finished_index.hpp"

#include <algorithm>
#include <bit>

#include "platform/cache_line.hpp"

namespace brisk::detail {

struct alignas(kCacheLine) FinishedIndex::Bucket {
  std::uint32_t cells[kCells] = {};  // 0: empty
};
FinishedIndex::FinishedIndex(std::size_t capacity)
    : mask_(std::bit_ceil(std::max<std::size_t>(1, capacity / 4)) - 1), buckets_(std::make_unique<Bucket[]>(mask_ + 1)) {
  static_assert(sizeof(Bucket) == kCacheLine, "a bucket is one cache line: one miss per insert or lookup");
}

FinishedIndex::~FinishedIndex() = default;

std::size_t FinishedIndex::bucket_of(TaskId id) const noexcept {
  // The product's top bits: they depend on every bit of the id (its low
  // bits only on the id's low half, the record index, which the ids of one
  // reused record share).
  const std::uint64_t mixed = static_cast<std::uint64_t>(id) * 0x9E3779B97F4A7C15ull;
  return mask_ == 0 ? 0 : static_cast<std::size_t>(mixed >> std::countl_zero(mask_));
}

void FinishedIndex::insert(TaskId id, std::uint64_t seq) noexcept {
  Bucket& bucket = buckets_[bucket_of(id)];
  const auto mine = static_cast<std::uint32_t>(seq);
  // The empty cell, else the oldest number's (the entry the ring
  // overwrites first, or already has).
  std::size_t victim = 0;
  std::uint64_t victim_age = 0;
  for (std::size_t i = 0; i < kCells; ++i) {
    const std::uint32_t cell = bucket.cells[i];
    if (cell == mine) return;  // indexed already (a lookup saw it written early)
    // A later number (a negative distance: `seq` came late, from a chunk
    // filled after a lookup) counts as the youngest.
    const auto behind = static_cast<std::int32_t>(mine - cell);
    const std::uint64_t age = cell == 0 ? std::uint64_t{1} << 32 : behind < 0 ? 0 : static_cast<std::uint64_t>(behind);
    if (age > victim_age || i == 0) {
      victim = i;
      victim_age = age;
    }
  }
  bucket.cells[victim] = mine;
}

void FinishedIndex::prefetch(TaskId id) const noexcept { __builtin_prefetch(&buckets_[bucket_of(id)], 1, 3); }

std::size_t FinishedIndex::candidates(TaskId id, std::uint64_t next, std::uint64_t* seqs) const noexcept {
  // A cell holds a number's low 32 bits: the full number is the latest
  // one with those bits below `next`.
  std::size_t n = 0;
  for (const std::uint32_t low : buckets_[bucket_of(id)].cells) {
    if (low != 0) seqs[n++] = next - 1 - static_cast<std::uint32_t>(static_cast<std::uint32_t>(next - 1) - low);
  }
  return n;
}

}  // namespace brisk::detail

// FinishedIndex: where in a FinishedRing the entry of a task id may be.
//
// A lossy hash of ring sequence numbers by task id, kept by the ring's
// readers (one at a time, under the ring's index mutex), never by the
// workers that finish tasks: a random line per finished task was the
// largest cost of remembering an empty task (docs/perf.md, issue 17).
//
// Buckets of 16 cells (the low 32 bits of a sequence number) in one cache
// line, capacity / 4 buckets: each number goes into its bucket's empty or
// oldest cell. A bucket holds 16 while the
// ring averages 4 per bucket, so a live entry is pushed out of its bucket
// (found no more: `unknown`, never wrong: the ring's slot decides) about
// once in 10^6.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "brisk/submit.hpp"

namespace brisk::detail {

class FinishedIndex {
 public:
  static constexpr std::size_t kCells = 16;

  explicit FinishedIndex(std::size_t capacity);
  ~FinishedIndex();
  FinishedIndex(const FinishedIndex&) = delete;
  FinishedIndex& operator=(const FinishedIndex&) = delete;

  // Records that the entry numbered `seq` holds `id` (seq not 0 modulo
  // 2^32: the caller leaves those out; mostly above the numbers inserted
  // before, a chunk's late ones below them).
  void insert(TaskId id, std::uint64_t seq) noexcept;
  // A hint: `id` is about to be inserted (its bucket, a random line).
  void prefetch(TaskId id) const noexcept;
  // Writes the full numbers `id` may be at into `seqs` (at most kCells),
  // given that no number at or above `next` was inserted; returns how many.
  std::size_t candidates(TaskId id, std::uint64_t next, std::uint64_t* seqs) const noexcept;

 private:
  struct Bucket;
  std::size_t bucket_of(TaskId id) const noexcept;

  const std::size_t mask_;
  std::unique_ptr<Bucket[]> buckets_;
};

}  // namespace brisk::detail

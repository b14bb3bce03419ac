// FinishedRing: the finished tasks status() still remembers, written by
// the workers without a lock (the finishing path of every named task when
// task_status.max_finished > 0).
//
// A ring of `capacity` slots in claim order: a task finishing takes the
// next sequence number and writes slot seq % capacity, so the oldest entry
// is the one overwritten (FIFO). To keep two workers off one shared counter
// a writer claims sequence numbers in chunks (kChunk at a time on a large
// ring, one at a time on a small one, whose bound is then exact); the order
// of eviction follows claims, within a chunk per writer of finishing order.
//
// Each slot is a seqlock (its version: 2 * seq while it holds the task with
// that sequence number, odd while written), every field an atomic read
// between two loads of the version, so a reader never takes a half-written
// entry, and it compares the full TaskId (record index and generation), so a
// reused record never answers for another task. A task is found through a
// lossy index: buckets of 16 sequence numbers (their low 32 bits) in one
// cache line; a writer puts its number in the bucket's empty or oldest cell
// (the entry the ring overwrites soonest, or already did). A bucket holds
// 16 while the ring averages 4 per bucket, so a live entry is pushed out of
// its bucket (found no more: `unknown`, never wrong) about once in 10^6.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "brisk/submit.hpp"
#include "brisk/task_status.hpp"
#include "platform/cache_line.hpp"

namespace brisk::detail {

// The fixed-size part of a finished task (its texts are kept apart).
struct FinishedFields {
  TaskId id = 0;
  std::uint64_t accepted_stamp = 0;  // TickClock stamp
  std::int64_t started_ns = 0;
  std::int64_t finished_ns = 0;
  std::uint32_t attempts = 0;
  TaskState state = TaskState::unknown;
  bool has_texts = false;  // an error or a result waits in the texts map
};

class FinishedRing {
 public:
  static constexpr std::uint64_t kChunk = 64;

  explicit FinishedRing(std::size_t capacity);
  ~FinishedRing();
  FinishedRing(const FinishedRing&) = delete;
  FinishedRing& operator=(const FinishedRing&) = delete;

  // Writes `task`; lock-free (a writer spins only if the slot it claimed is
  // being written by one a whole ring behind, which means it was stalled).
  // Returns the entry it overwrote when that one had texts (so that the
  // caller can drop them), else an id of 0.
  TaskId add(const FinishedFields& task) noexcept;
  // The entry for `id` if the ring still holds it (any age: the caller
  // applies retention).
  bool find(TaskId id, FinishedFields* out) const noexcept;

  // Entries held whose finished_ns is within `retention_ns` of the newest.
  // Reads every slot (a few ms for a large ring): for stats, not hot paths.
  std::size_t size(std::int64_t retention_ns) const noexcept;
  // Entries written since the start (evicted = added - size).
  std::uint64_t added() const noexcept;

 private:
  struct Slot;
  struct Bucket;
  struct Cursor;

  Cursor& cursor() noexcept;
  std::uint64_t claim(Cursor& c) noexcept;
  bool read(const Slot& slot, FinishedFields* out) const noexcept;
  void index(TaskId id, std::uint64_t seq) noexcept;
  std::size_t bucket_of(TaskId id) const noexcept;

  static constexpr std::size_t kCursors = 16;

  const std::size_t capacity_;
  const std::uint64_t chunk_;
  std::unique_ptr<Slot[]> slots_;
  const std::size_t bucket_mask_;
  std::unique_ptr<Bucket[]> buckets_;
  std::unique_ptr<Cursor[]> cursors_;
  // The next sequence number no chunk has claimed yet (relaxed: it only
  // hands out numbers; what a slot holds is published by its version).
  // Claimed by every writer: a line of its own, apart from the read-only
  // pointers above.
  alignas(kCacheLine) std::atomic<std::uint64_t> next_seq_{1};
};

}  // namespace brisk::detail

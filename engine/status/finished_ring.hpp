// FinishedRing: the finished tasks status() still remembers, written by
// the workers without a lock (the finishing path of every named task when
// task_status.max_finished > 0).
//
// A ring of `capacity` slots in claim order: a task finishing takes the
// next sequence number and writes slot seq % capacity, so the oldest entry
// is the one overwritten (FIFO). To keep two workers off one shared counter
// a writer claims sequence numbers in chunks (up to kChunk at a time on a
// large ring, fewer when many threads write, one at a time on a small
// ring, whose bound is then exact); the order
// of eviction follows claims, within a chunk per writer of finishing order,
// so an entry outlives at least capacity * (1 - 1/kLagDivisor) newer
// numbers; the numbers a writer drops with a chunk that fell behind are
// never written (a writer's chunks start at 1 after a drop and double as
// it fills them, so those are few: see claim()).
// Each writing thread has a cursor of its own (its chunk; by its
// this_thread_slot(), so owning it costs no locked instruction; threads
// beyond kThreadSlots share one under a mutex), marked odd by a counter
// while it writes. A thread looking up an entry reads each cursor between
// two writes (a seqlock read) to learn which numbers claimed before the
// lookup began are still unwritten, and indexes them once they are.
//
// Each slot is a seqlock (its version: 2 * seq while it holds the task with
// that sequence number, odd while written), every field an atomic read
// between two loads of the version, so a reader never takes a half-written
// entry, and it compares the full TaskId (record index and generation), so a
// reused record never answers for another task. A task is found through a
// FinishedIndex that the readers bring up to date (under a mutex) before
// they look: the writers touch only their own slots, sequential lines.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "brisk/submit.hpp"
#include "brisk/task_status.hpp"
#include "platform/cache_line.hpp"
#include "platform/thread_slot.hpp"
#include "status/finished_index.hpp"

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
  // How far (a fraction of the ring) a writer's chunk may fall behind the
  // newest claim before the writer drops it and claims anew.
  static constexpr std::uint64_t kLagDivisor = 16;

  // first_seq: the first sequence number handed out (tests start near 2^32).
  explicit FinishedRing(std::size_t capacity, std::uint64_t first_seq = 1);
  ~FinishedRing();
  FinishedRing(const FinishedRing&) = delete;
  FinishedRing& operator=(const FinishedRing&) = delete;

  // Writes `task`; lock-free for the first kThreadSlots writing threads
  // (a writer spins only if the slot it claimed is being written by one a
  // whole ring behind, which means it was stalled).
  // Returns the entry it overwrote when that one had texts (so that the
  // caller can drop them), else an id of 0.
  TaskId add(const FinishedFields& task) noexcept;
  // The entry for `id` if the ring still holds it (any age: the caller
  // applies retention). Indexes the entries added since the last lookup
  // first (at most `capacity`), and waits for any add() in progress: not
  // for hot paths.
  bool find(TaskId id, FinishedFields* out) const;

  // Entries held whose finished_ns is within `retention_ns` of the newest.
  // Reads every slot (a few ms for a large ring): for stats, not hot paths.
  std::size_t size(std::int64_t retention_ns) const noexcept;
  // Entries written since the start (evicted = added - size).
  std::uint64_t added() const noexcept;

 private:
  struct Slot;
  struct Cursor;

  // add() through the writer's own cursor `c`.
  TaskId write(Cursor& c, const FinishedFields& task) noexcept;
  std::uint64_t claim(Cursor& c) noexcept;
  bool read(const Slot& slot, FinishedFields* out) const noexcept;
  using Unfilled = std::pair<std::uint64_t, std::uint64_t>;  // [first, last) claimed, not yet written

  // Indexes what was written since the last call (index_mutex_ held).
  void catch_up() const;
  // The chunk [next, end) of `c` as its writer left it between two entries.
  Unfilled between_writes(const Cursor& c) const noexcept;
  // Cursors [0, n) have had writers (the shared one is always read).
  std::size_t cursors_in_use() const noexcept { return cursors_in_use_.load(std::memory_order_acquire); }
  void index_filled(std::vector<Unfilled>& unfilled) const;
  bool index_if_written(std::uint64_t seq) const;
  bool passed(std::uint64_t seq) const noexcept;

  // One per thread slot, and the shared one.
  static constexpr std::size_t kCursors = kThreadSlots + 1;
  static constexpr std::size_t kSharedCursor = kThreadSlots;

  const std::size_t capacity_;
  const std::uint64_t chunk_;
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<Cursor[]> cursors_;
  // Past the highest thread slot that has written, so that lookups read
  // only the cursors in use (raised before that writer's first claim and
  // ordered before it by write()'s release fence; read-mostly: it shares
  // the read-only line).
  std::atomic<std::size_t> cursors_in_use_{0};
  std::mutex shared_cursor_mutex_;  // writers without a thread slot
  // The readers' side: the index and how far it covers.
  mutable std::mutex index_mutex_;
  mutable FinishedIndex index_;
  mutable std::uint64_t indexed_;  // every number below it is indexed, gone or unfilled_
  mutable std::vector<Unfilled> unfilled_;  // claimed below indexed_, unwritten when last looked
  // The next sequence number no chunk has claimed yet (relaxed: it only
  // hands out numbers; what a slot holds is published by its version).
  // Claimed by every writer: a line of its own, apart from the read-only
  // pointers above.
  alignas(kCacheLine) std::atomic<std::uint64_t> next_seq_;
};

}  // namespace brisk::detail

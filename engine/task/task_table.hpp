// TaskTable: a bounded pool of TaskRecords addressed by TaskId.
//
// Records are allocated in chunks on first use and recycled through
// lock-free Treiber stacks, so steady-state submit and completion allocate
// nothing and take no lock. There are kFreeLists free lists: a thread takes
// records from the list its thread number picks (others only when that one
// is empty), and a record goes back to the list of the thread that took it
// last. Two producers then never touch each other's list. A worker gives
// back the records of a batch as one chain per list (one CAS each): once per
// batch, not once per task. Each list is two stacks on their own lines (see
// FreeList), so that the workers' pushes and the producer's pops do not
// meet on one line for every task. A
// TaskId is generation << 32 | index: find() rejects ids of records since
// reused.
// The bound (EngineConfig::max_named_tasks) caps memory for named tasks that
// are queued, running, delayed or waiting for a retry.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "platform/cache_line.hpp"
#include "task/task_record.hpp"

namespace brisk::detail {

class TaskTable {
 public:
  explicit TaskTable(std::uint32_t capacity);
  ~TaskTable();
  TaskTable(const TaskTable&) = delete;
  TaskTable& operator=(const TaskTable&) = delete;

  // A record in state RecordState::free with a fresh generation (never 0), or
  // nullptr when capacity records are in use. The caller sets its state.
  TaskRecord* acquire();
  // Returns a record to the pool; clears payload and history.
  void release(TaskRecord* record) noexcept;

  static constexpr std::uint32_t kFreeLists = 8;
  static_assert(kFreeLists <= 256, "TaskRecord::free_list is a byte");
  // A released record keeps its payload's buffer up to this size.
  static constexpr std::size_t kKeptPayloadBytes = 1024;

  // Records one thread releases, held back to be returned together: a chain
  // per free list, so that each record goes home.
  class ReleaseChain {
   public:
    bool empty() const noexcept { return held_ == 0; }

   private:
    friend class TaskTable;
    struct Links {
      TaskRecord* first = nullptr;
      TaskRecord* last = nullptr;
    };
    Links lists_[kFreeLists];
    std::uint32_t held_ = 0;
  };
  // Clears `record` (as release() does) and adds it to `chain`; it is not
  // handed out again until release_chain(). Single-threaded per chain.
  void defer_release(TaskRecord* record, ReleaseChain& chain) noexcept;
  // Returns every record of `chain` to the pool at once; leaves it empty.
  void release_chain(ReleaseChain& chain) noexcept;
  // The record id names, or nullptr if it was never handed out. The record
  // may belong to a newer task: callers CAS with id's generation (transition()).
  TaskRecord* find(TaskId id) const noexcept;

  std::uint32_t capacity() const noexcept { return capacity_; }
  // What the constructor allocates: the index of record chunks. The records
  // themselves are allocated a chunk at a time, as they are first used.
  static std::size_t allocated_bytes(std::uint32_t capacity) noexcept {
    return (std::size_t{capacity} + kChunkSize - 1) / kChunkSize * sizeof(std::atomic<TaskRecord*>);
  }
  // Records handed out and not yet returned, as of one instant.
  std::uint32_t in_use() const noexcept;

 private:
  static constexpr std::uint32_t kChunkBits = 12;
  static constexpr std::uint32_t kChunkSize = 1u << kChunkBits;

  TaskRecord* at(std::uint32_t index) const noexcept {
    // acquire: pairs with the release store in chunk_for(), so the chunk's
    // records are constructed before we touch them.
    return &chunks_[index >> kChunkBits].load(std::memory_order_acquire)[index & (kChunkSize - 1)];
  }
  TaskRecord* chunk_for(std::uint32_t index);
  // Given-back records wait in `returned`, which only takes pushes (of the
  // workers' chains) and whole-stack exchanges: no ABA, no tag.
  struct alignas(kCacheLine) ReturnedStack {
    std::atomic<std::uint32_t> head{0};  // index + 1; 0 = empty
  };
  // One free list. acquire() pops from `ready`; when it is empty it moves
  // all of `returned` into it with one exchange. So a worker's push never
  // lands on the line the producer pops from (that line moves once per
  // chain, not once per task), and the record under the one popped, which
  // pop() prefetches, is the next one handed out, not one a worker pushed
  // on top meanwhile. `acquired` shares ready's line: the popping thread
  // touches both, so the gauge costs no extra miss.
  struct alignas(kCacheLine) FreeList {
    // tag << 32 | (index + 1); 0 in the low half = empty. Popped by any
    // thread (tagged against ABA), filled only from `returned`.
    std::atomic<std::uint64_t> ready{0};
    // Records handed out from this list; wraps (see in_use()).
    std::atomic<std::uint32_t> acquired{0};
    ReturnedStack returned;
  };
  static_assert(sizeof(ReturnedStack) == kCacheLine, "returned: a line of its own");
  static_assert(sizeof(FreeList) == 2 * kCacheLine, "ready and acquired on one line, returned on the next");

  static void reset(TaskRecord* record) noexcept;  // what release() clears
  // A record from `list`: from ready, refilled from returned when empty.
  TaskRecord* pop(FreeList& list) noexcept;
  TaskRecord* pop_ready(FreeList& list) noexcept;
  // Puts the chain starting at index + 1 == `chain` into ready.
  void refill(FreeList& list, std::uint32_t chain) noexcept;
  // Counts records about to be pushed, before they are (see in_use()).
  void count_released(std::uint32_t count) noexcept;
  // Pushes first..last (already linked through next_free, all of one home
  // list) onto that list's returned stack.
  void push(TaskRecord* first, TaskRecord* last) noexcept;

  const std::uint32_t capacity_;
  std::unique_ptr<std::atomic<TaskRecord*>[]> chunks_;
  std::mutex grow_mutex_;  // only taken to allocate a new chunk (cold)
  FreeList lists_[kFreeLists];
  alignas(kCacheLine) std::atomic<std::uint32_t> never_used_{0};  // first index never handed out
  // Releases are counted apart from acquires (producers acquire, workers
  // release, once per chain), so that keeping the gauge does not move a
  // cache line between the two for every task. Both wrap; the difference
  // does not.
  alignas(kCacheLine) std::atomic<std::uint32_t> released_{0};
};

}  // namespace brisk::detail

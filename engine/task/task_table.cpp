#include "task/task_table.hpp"

#include <algorithm>

#include "platform/thread_number.hpp"

namespace brisk::detail {

TaskTable::TaskTable(std::uint32_t capacity)
    : capacity_(capacity),
      chunks_(new std::atomic<TaskRecord*>[(capacity + kChunkSize - 1) / kChunkSize]) {
  for (std::uint32_t c = 0; c < (capacity + kChunkSize - 1) / kChunkSize; ++c) {
    chunks_[c].store(nullptr, std::memory_order_relaxed);
  }
}

TaskTable::~TaskTable() {
  for (std::uint32_t c = 0; c < (capacity_ + kChunkSize - 1) / kChunkSize; ++c) {
    delete[] chunks_[c].load(std::memory_order_relaxed);
  }
}

TaskRecord* TaskTable::chunk_for(std::uint32_t index) {
  std::atomic<TaskRecord*>& slot = chunks_[index >> kChunkBits];
  if (TaskRecord* chunk = slot.load(std::memory_order_acquire)) return chunk;
  std::lock_guard lock(grow_mutex_);
  TaskRecord* chunk = slot.load(std::memory_order_relaxed);
  if (chunk == nullptr) {
    chunk = new TaskRecord[kChunkSize];
    const std::uint32_t base = index & ~(kChunkSize - 1);
    for (std::uint32_t i = 0; i < kChunkSize; ++i) chunk[i].index = base + i;
    // release: publishes the constructed records to at()'s acquire.
    slot.store(chunk, std::memory_order_release);
  }
  return chunk;
}

TaskRecord* TaskTable::pop(FreeList& list) noexcept {
  for (;;) {
    if (TaskRecord* record = pop_ready(list)) return record;
    // acquire: the records' reset fields and next_free links were written
    // before the release CAS in push() that gave them back.
    const std::uint32_t chain = list.returned.head.exchange(0, std::memory_order_acquire);
    if (chain == 0) return nullptr;
    refill(list, chain);
  }
}

TaskRecord* TaskTable::pop_ready(FreeList& list) noexcept {
  // acquire: the popped record's next_free and contents were written before
  // the release CAS that put it in ready (refill()).
  std::uint64_t head = list.ready.load(std::memory_order_acquire);
  while (static_cast<std::uint32_t>(head) != 0) {
    TaskRecord* top = at(static_cast<std::uint32_t>(head) - 1);
    // relaxed: if top was popped and re-pushed meanwhile, the tag changed
    // and the CAS below fails; the value read is then discarded.
    const std::uint64_t next = top->next_free.load(std::memory_order_relaxed);
    const std::uint64_t tagged = ((head >> 32) + 1) << 32 | next;
    // acquire on failure too: the head it reloads is the next top, whose
    // next_free the loop reads.
    if (list.ready.compare_exchange_weak(head, tagged, std::memory_order_acquire, std::memory_order_acquire)) {
      // The record under it is this thread's next one: start pulling its
      // lines (last written by the worker that freed it) now, so that the
      // next submit does not wait for them.
      if (next != 0) {
        const char* line = reinterpret_cast<const char*>(at(static_cast<std::uint32_t>(next) - 1));
        __builtin_prefetch(line, 1);
        __builtin_prefetch(line + sizeof(TaskRecord) - 1, 1);
      }
      return top;
    }
  }
  return nullptr;
}

void TaskTable::refill(FreeList& list, std::uint32_t chain) noexcept {
  TaskRecord* first = at(chain - 1);
  TaskRecord* last = nullptr;  // found only if another thread refilled ready meanwhile
  // relaxed: seeds the CAS loop, which publishes (release).
  std::uint64_t head = list.ready.load(std::memory_order_relaxed);
  for (;;) {
    if (static_cast<std::uint32_t>(head) != 0) {
      // Rare: a thread whose own list ran dry moved a chain in too. Ours
      // goes on top of it, linked from our chain's end.
      if (last == nullptr) {
        last = first;
        // relaxed: the chain is ours alone since the exchange (acquire).
        for (std::uint32_t n; (n = last->next_free.load(std::memory_order_relaxed)) != 0;) {
          last = at(n - 1);
        }
      }
      last->next_free.store(static_cast<std::uint32_t>(head), std::memory_order_relaxed);
    } else if (last != nullptr) {
      last->next_free.store(0, std::memory_order_relaxed);
    }
    const std::uint64_t tagged = ((head >> 32) + 1) << 32 | chain;
    // release: what the exchange acquired (the records' fields and links)
    // and the link above are visible to whoever pops them (acquire in
    // pop_ready()). relaxed on failure: the reloaded head is only linked
    // under our chain, never read through.
    if (list.ready.compare_exchange_weak(head, tagged, std::memory_order_release, std::memory_order_relaxed)) {
      return;
    }
  }
}

TaskRecord* TaskTable::acquire() {
  const std::uint32_t own = this_thread_number() % kFreeLists;
  for (;;) {
    std::uint32_t from = own;
    TaskRecord* record = pop(lists_[own]);
    // Another thread's list only when ours is empty: growing the table while
    // records lie idle elsewhere would spend memory the bound is meant to cap.
    for (std::uint32_t i = 1; record == nullptr && i < kFreeLists; ++i) {
      from = (own + i) % kFreeLists;
      record = pop(lists_[from]);
    }
    if (record == nullptr) {
      // relaxed: only uniqueness of the index matters; chunk_for publishes.
      const std::uint32_t index = never_used_.fetch_add(1, std::memory_order_relaxed);
      if (index >= capacity_) {
        never_used_.fetch_sub(1, std::memory_order_relaxed);
        return nullptr;
      }
      record = &chunk_for(index)[index & (kChunkSize - 1)];
      from = own;
    }
    const std::uint32_t generation = generation_of(*record) + 1;
    if (generation == 0) {
      // Every id of this record has been given out (2^32 - 1 tasks): a next
      // one would repeat the first, and a caller still holding that id would
      // read another task's state. The record is retired (never pushed back):
      // the table holds one record fewer, once per 2^32 reuses of one.
      continue;
    }
    // Its home from now on is this thread's list, wherever it was found.
    record->free_list = static_cast<std::uint8_t>(own);
    // relaxed: the record is ours alone until a later release publishes it.
    record->state_word.store(state_word(generation, RecordState::free), std::memory_order_relaxed);
    // relaxed: in_use() sees this increment through the record's later handoff
    // to a worker and that worker's release increment (see in_use()). Counted
    // on the list it was popped from, whose line this thread already holds.
    lists_[from].acquired.fetch_add(1, std::memory_order_relaxed);
    return record;
  }
}

void TaskTable::reset(TaskRecord* record) noexcept {
  // The state first (release: what the task's end wrote, its finished
  // entry among it, is seen by a status() that reads "free"), then a
  // release fence before the fields are cleared: a live_status() that reads
  // a cleared field sees "free" when it reads the state word again
  // (status/task_status.cpp), so it never reports them as this task's.
  record->state_word.store(state_word(generation_of(*record), RecordState::free), std::memory_order_release);
  std::atomic_thread_fence(std::memory_order_release);
  // A small payload's buffer is left for the thread that takes the record
  // next, which frees it when it moves its own payload in: the thread that
  // allocated it, as records return to their taker's list (a local free,
  // not a cross-thread one). A large one is freed now, or a burst of large
  // tasks would stay resident in free records for good.
  record->key_bytes = 0;
  if (record->payload_and_key.capacity() > kKeptPayloadBytes) {
    std::string().swap(record->payload_and_key);
  } else {
    record->payload_and_key.clear();
  }
  record->failures.clear();
  record->attempt.store(0, std::memory_order_relaxed);
  record->started_ns.store(0, std::memory_order_relaxed);
  record->holds_credit = false;
  record->durable_id = 0;
  record->due_ns = 0;
  record->holds_gate_slot = false;
  record->holds_rate_turn = false;
  record->workflow = 0;
  record->stop_requested.store(false, std::memory_order_relaxed);
  record->abandoned.store(false, std::memory_order_relaxed);
}

void TaskTable::count_released(std::uint32_t count) noexcept {
  // release: in_use() reads this counter first and must then see the
  // acquires of the records counted here (see in_use()).
  released_.fetch_add(count, std::memory_order_release);
}

void TaskTable::push(TaskRecord* first, TaskRecord* last) noexcept {
  std::atomic<std::uint32_t>& returned = lists_[first->free_list].returned.head;
  // relaxed: the value only seeds the CAS loop, which publishes (release);
  // a stale head makes the CAS fail and reload.
  std::uint32_t head = returned.load(std::memory_order_relaxed);
  for (;;) {
    last->next_free.store(head, std::memory_order_relaxed);
    // release: the records' reset fields and next_free links are visible to
    // the thread that takes the stack (acquire exchange in pop()). relaxed
    // on failure: the reloaded head is only linked under our records, never
    // read through. No tag: this stack is only pushed and taken whole, and
    // a push that meets its old head again still links to the right stack.
    if (returned.compare_exchange_weak(head, first->index + 1, std::memory_order_release,
                                       std::memory_order_relaxed)) {
      return;
    }
  }
}

void TaskTable::release(TaskRecord* record) noexcept {
  reset(record);
  count_released(1);
  push(record, record);
}

void TaskTable::defer_release(TaskRecord* record, ReleaseChain& chain) noexcept {
  reset(record);
  ReleaseChain::Links& links = chain.lists_[record->free_list];
  // relaxed: the chain is this thread's until push() publishes it (release).
  record->next_free.store(links.first != nullptr ? links.first->index + 1 : 0, std::memory_order_relaxed);
  if (links.first == nullptr) links.last = record;
  links.first = record;
  ++chain.held_;
}

void TaskTable::release_chain(ReleaseChain& chain) noexcept {
  if (chain.held_ == 0) return;
  count_released(chain.held_);
  for (ReleaseChain::Links& links : chain.lists_) {
    if (links.first != nullptr) push(links.first, links.last);
  }
  chain = ReleaseChain{};
}

std::uint32_t TaskTable::in_use() const noexcept {
  // Acquires and releases cannot be read at once: read releases, then the
  // acquires, then releases again; if no release happened in between, the
  // two describe one moment (else the difference can count records that
  // came and went, more than the table holds). Releases are read first so
  // the difference is never negative: acquire pairs with the release
  // increment in push(), and the acquires of the records counted there
  // happened before it (a record passes from producer to worker through a
  // ring). Under a storm of releases it gives up retrying and clamps: a gauge.
  std::uint32_t difference = 0;
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::uint32_t released = released_.load(std::memory_order_acquire);
    std::uint32_t acquired = 0;
    for (const FreeList& list : lists_) acquired += list.acquired.load(std::memory_order_relaxed);
    difference = acquired - released;
    // The fence keeps the loads above before the re-read (a seqlock
    // reader's pattern); relaxed then suffices for the re-read itself.
    std::atomic_thread_fence(std::memory_order_acquire);
    if (released_.load(std::memory_order_relaxed) == released) break;
  }
  return std::min(difference, capacity_);
}

TaskRecord* TaskTable::find(TaskId id) const noexcept {
  const auto index = static_cast<std::uint32_t>(id);
  if (index >= capacity_) return nullptr;
  TaskRecord* chunk = chunks_[index >> kChunkBits].load(std::memory_order_acquire);
  return chunk == nullptr ? nullptr : &chunk[index & (kChunkSize - 1)];
}

}  // namespace brisk::detail

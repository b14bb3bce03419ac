// RefusalLog: a bounded lock-free multi-producer ring of the submissions
// the engine refused while tracing is on, for the trace's "producers" track.
//
// Producers are arbitrary threads, so unlike a worker's TraceBuffer (one
// writer) any number record at once; one reader (the thread writing the
// trace) drains. It allocates once, at construction, and never blocks: when
// the ring is full a refusal is counted as dropped (the trace says how many).
// Refusals are a slow path (the producer will back off or retry), so the
// shared claim counter's contention only meets producers that are being
// refused anyway; an accepted submission never gets here.
//
// The ring is D. Vyukov's bounded queue, one consumer: each slot carries a
// sequence number. Slot i of lap k is free for the producer holding ticket
// p = k * capacity + i when seq == p, and holds a published event when
// seq == p + 1; the reader frees it by setting seq = p + capacity.
// Orderings:
// * A producer claims a ticket with a CAS on tail_ (relaxed: the ticket only
//   makes the slot its own; the slot's seq carries the ordering), after a
//   seq.load(acquire) that saw the slot free: that acquire pairs with the
//   reader's release of it, so the reader's copy of the old event happened
//   before this producer overwrites it.
// * The producer writes the event, then seq.store(p + 1, release); the
//   reader's seq.load(acquire) that sees p + 1 therefore sees the whole
//   event (plain memory, never torn, no data race).
// * head_ is the reader's own (drains are serialised by the engine's trace
//   drain mutex); dropped_ is a statistic: relaxed fetch_add, read relaxed.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "platform/cache_line.hpp"
#include "trace/trace_buffer.hpp"

namespace brisk::trace {

class RefusalLog {
 public:
  // capacity is rounded up to a power of two (at least 2).
  explicit RefusalLog(std::size_t capacity)
      : capacity_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity)),
        slots_(std::make_unique<Slot[]>(capacity_)) {
    for (std::size_t i = 0; i < capacity_; ++i) slots_[i].seq.store(i, std::memory_order_relaxed);
  }
  RefusalLog(const RefusalLog&) = delete;
  RefusalLog& operator=(const RefusalLog&) = delete;

  // Any thread: `count` submissions refused now for `reason` (a SubmitStatus
  // code). False when the ring is full: counted as dropped.
  bool record(std::uint32_t reason, std::uint64_t count) noexcept {
    std::uint64_t pos = tail_.load(std::memory_order_relaxed);
    Slot* slot;
    for (;;) {
      slot = &slots_[pos & (capacity_ - 1)];
      const std::uint64_t seq = slot->seq.load(std::memory_order_acquire);
      const auto lag = static_cast<std::int64_t>(seq - pos);
      if (lag == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (lag < 0) {  // the slot still holds last lap's event: full
        dropped_.fetch_add(count, std::memory_order_relaxed);
        return false;
      } else {  // another producer took this ticket: try the newest
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
    slot->event = TraceEvent{trace_now_ns(), count, reason, kExternalWorker, TraceKind::kRefused};
    slot->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  // The one reader: appends every published refusal, oldest first, and
  // frees their slots. Stops at a slot whose producer has claimed it but not
  // yet published: that one (and any after it) comes with the next drain.
  std::size_t drain(std::vector<TraceEvent>& out) {
    std::size_t n = 0;
    for (;; ++head_, ++n) {
      Slot& slot = slots_[head_ & (capacity_ - 1)];
      if (slot.seq.load(std::memory_order_acquire) != head_ + 1) return n;
      out.push_back(slot.event);
      slot.seq.store(head_ + capacity_, std::memory_order_release);
    }
  }

  // Submissions whose refusal found the ring full.
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  struct Slot {
    std::atomic<std::uint64_t> seq{0};
    TraceEvent event{};
  };

  const std::size_t capacity_;
  const std::unique_ptr<Slot[]> slots_;
  // Producers' line.
  alignas(detail::kCacheLine) std::atomic<std::uint64_t> tail_{0};
  std::atomic<std::uint64_t> dropped_{0};
  // Reader's line.
  alignas(detail::kCacheLine) std::uint64_t head_ = 0;
};

}  // namespace brisk::trace

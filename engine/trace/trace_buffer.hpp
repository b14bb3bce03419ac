// TraceBuffer: a per-worker single-producer single-consumer ring of task
// lifecycle events. The owning worker records; one reader thread drains
// concurrently. When the ring is full the worker counts the event as
// dropped and moves on: tracing must never block or slow the engine beyond
// a copy and two loads.
//
// Disabled tracing is the caller's branch (`if (trace) trace->record(...)`),
// one predictable test of a pointer or flag; nothing here runs.
//
// Orderings (head_ = next slot to write, tail_ = next slot to read; both
// ever-increasing, so head_ - tail_ is the fill and never wraps in practice):
// * The producer writes a slot, then head_.store(release). The reader's
//   head_.load(acquire) therefore sees every slot below that head fully
//   written: events are plain memory, never torn, and there is no data race.
// * The reader copies slots out, then tail_.store(release). The producer's
//   tail_.load(acquire) therefore happens after those copies, so it never
//   overwrites a slot the reader is still copying.
// * Each side loads its own index relaxed: only it writes it.
// * The producer caches the last tail it saw and re-reads tail_ only when
//   the ring looks full, so the common record touches no line the reader
//   writes.
// * dropped_ is a statistic with one writer: relaxed load + store, read
//   relaxed (a torn-free, possibly slightly stale value is all a report needs).
#pragma once

#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "platform/cache_line.hpp"
#include "platform/new_array.hpp"

namespace brisk::trace {

// The first seven are a worker's task lifecycle. The rest come from side
// tracks (side_tracks.hpp): kRefused from producers (RefusalLog), kLogBatch,
// kFsync and kLogEnd from the log's writer thread: a batch's write() and an
// fdatasync are each a slice, begun by kLogBatch / kFsync and ended by the
// kLogEnd that follows.
enum class TraceKind : std::uint8_t {
  kSubmit, kStart, kEnd, kSteal, kRetry, kPark, kUnpark, kRefused, kLogBatch, kFsync, kLogEnd
};

// worker of events recorded outside any worker (producers submitting).
inline constexpr std::uint16_t kExternalWorker = 0xFFFF;
// worker of the log writer thread's events (its own track).
inline constexpr std::uint16_t kLogWriter = 0xFFFE;

struct TraceEvent {
  std::uint64_t ts_ns;    // steady clock
  std::uint64_t task_id;  // 0 when the event has no task (park, unpark)
  // Kind-specific. start: how long the task waited in its ring, in ns
  // (saturating at 2^32 - 1, about 4.3 s): a worker records no separate
  // submit event (a third less trace traffic); the exporter derives it as
  // ts_ns - arg. steal: the victim worker. retry: the attempt.
  // refused: the SubmitStatus, and task_id is how many submissions (a bulk
  // post refuses several at once). log batch: the records, and task_id the
  // bytes. fsync: task_id is the log's synced LSN after it.
  std::uint32_t arg;
  std::uint16_t worker;   // recording worker, or kExternalWorker
  TraceKind kind;
};

inline std::uint64_t trace_now_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

class TraceBuffer {
 public:
  // capacity is rounded up to a power of two (at least 2).
  TraceBuffer(std::uint16_t worker, std::size_t capacity)
      : capacity_(rounded(capacity)), slots_(detail::new_array<TraceEvent>(capacity_)), worker_(worker) {}
  // What the constructor allocates for its events (the engine checks a
  // configuration's total against the machine's memory first).
  static std::size_t allocated_bytes(std::size_t capacity) noexcept { return rounded(capacity) * sizeof(TraceEvent); }
  TraceBuffer(const TraceBuffer&) = delete;
  TraceBuffer& operator=(const TraceBuffer&) = delete;

  // Producer (owning thread) only. False when full: the event is dropped.
  bool record(TraceKind kind, std::uint64_t task_id, std::uint32_t arg = 0) noexcept {
    return record(TraceEvent{trace_now_ns(), task_id, arg, worker_, kind});
  }
  bool record(const TraceEvent& e) noexcept {
    const std::uint64_t head = head_.load(std::memory_order_relaxed);
    if (head - cached_tail_ == capacity_) {
      cached_tail_ = tail_.load(std::memory_order_acquire);
      if (head - cached_tail_ == capacity_) {
        dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        return false;
      }
    }
    slots_[head & (capacity_ - 1)] = e;
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Consumer (one reader thread) only: appends every event recorded so far
  // to out, oldest first, and frees their slots. Returns how many.
  std::size_t drain(std::vector<TraceEvent>& out) {
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    const std::uint64_t head = head_.load(std::memory_order_acquire);
    for (std::uint64_t i = tail; i != head; ++i) out.push_back(slots_[i & (capacity_ - 1)]);
    tail_.store(head, std::memory_order_release);
    return static_cast<std::size_t>(head - tail);
  }

  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  std::size_t capacity() const noexcept { return capacity_; }
  std::uint16_t worker() const noexcept { return worker_; }

 private:
  static std::size_t rounded(std::size_t capacity) noexcept {
    return std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity);
  }

  const std::size_t capacity_;
  const std::unique_ptr<TraceEvent[]> slots_;
  const std::uint16_t worker_;

  // Producer's line.
  alignas(detail::kCacheLine) std::atomic<std::uint64_t> head_{0};
  std::uint64_t cached_tail_ = 0;
  std::atomic<std::uint64_t> dropped_{0};
  // Reader's line.
  alignas(detail::kCacheLine) std::atomic<std::uint64_t> tail_{0};
};

}  // namespace brisk::trace

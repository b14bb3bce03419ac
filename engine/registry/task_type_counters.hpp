// TaskTypeCounters: one task type's event counts, striped by thread.
//
// Every named task bumps two of them (accepted on submit, succeeded when it
// finishes), from whichever producer and worker handle it. One shared line
// per type would travel between cores twice per task, so a reader sums
// stripes, each on cache lines of its own:
// * the first kOwnStripes threads to take a thread slot (platform/
//   thread_slot: unique among live threads, handed on at thread exit) own
//   a stripe each, and add with a plain load and store: no locked
//   instruction, which costs a worker-bound empty task 8% (3.7 ns);
// * any other thread adds to one of kSharedStripes (this_thread_number() %
//   kSharedStripes) with a fetch_add, as two may share it.
// Cost: 3 KiB per task type, and a read of 24 stripes per counter, which
// only stats() does.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "platform/cache_line.hpp"
#include "platform/thread_number.hpp"
#include "platform/thread_slot.hpp"

namespace brisk::detail {

enum class TaskEvent : std::uint8_t {
  accepted,
  succeeded,
  failed_attempt,
  retried,
  rate_limited,
  timed_out,     // attempts past the hard limit
  late_result,   // results of those attempts, discarded
  dead_lettered,
  cancelled,
};
inline constexpr std::size_t kTaskEvents = static_cast<std::size_t>(TaskEvent::cancelled) + 1;

class TaskTypeCounters {
 public:
  void add(TaskEvent event) noexcept {
    // relaxed: independent monotonic counts, read only for reporting.
    if (const std::size_t slot = this_thread_slot(); slot < kOwnStripes) {
      // This thread is the stripe's only writer (a slot's next holder
      // acquires what its last one released at exit), so a load and a store
      // lose no count; readers load the atomic, never a torn value.
      std::atomic<std::uint64_t>& count = own_[slot].counts[index(event)];
      count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      return;
    }
    shared_[this_thread_number() % kSharedStripes].counts[index(event)].fetch_add(1, std::memory_order_relaxed);
  }

  // The sum over stripes. Not a snapshot of all counters at one instant,
  // but every count a thread made before one this reader synchronised with
  // (drain(), a join) is in it.
  std::uint64_t total(TaskEvent event) const noexcept {
    std::uint64_t sum = 0;
    for (const Stripe& s : own_) sum += s.counts[index(event)].load(std::memory_order_relaxed);
    for (const Stripe& s : shared_) sum += s.counts[index(event)].load(std::memory_order_relaxed);
    return sum;
  }

 private:
  static constexpr std::size_t kOwnStripes = 16;
  static constexpr std::size_t kSharedStripes = 8;
  static constexpr std::size_t index(TaskEvent event) noexcept { return static_cast<std::size_t>(event); }

  struct alignas(kCacheLine) Stripe {
    std::array<std::atomic<std::uint64_t>, kTaskEvents> counts{};
  };
  static_assert(sizeof(Stripe) % kCacheLine == 0, "a stripe shares no line with the next");
  std::array<Stripe, kOwnStripes> own_;
  std::array<Stripe, kSharedStripes> shared_;
};

}  // namespace brisk::detail

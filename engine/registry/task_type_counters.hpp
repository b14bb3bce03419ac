// TaskTypeCounters: one task type's event counts, striped by thread.
//
// Every named task bumps two of them (accepted on submit, succeeded when it
// finishes), from whichever producer and worker handle it. One shared line
// per type would travel between cores twice per task; each thread therefore
// adds to its own stripe (this_thread_number() % kStripes, each on its own
// cache lines), and a reader sums the stripes. Cost: 1 KiB per task type, and
// a read of 8 stripes per counter, which only stats() does.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "platform/cache_line.hpp"
#include "platform/thread_number.hpp"

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
    stripes_[this_thread_number() % kStripes].counts[index(event)].fetch_add(1, std::memory_order_relaxed);
  }

  // The sum over stripes. Not a snapshot of all counters at one instant,
  // but every count a thread made before one this reader synchronised with
  // (drain(), a join) is in it.
  std::uint64_t total(TaskEvent event) const noexcept {
    std::uint64_t sum = 0;
    for (const Stripe& s : stripes_) sum += s.counts[index(event)].load(std::memory_order_relaxed);
    return sum;
  }

 private:
  static constexpr std::size_t kStripes = 8;
  static constexpr std::size_t index(TaskEvent event) noexcept { return static_cast<std::size_t>(event); }

  struct alignas(kCacheLine) Stripe {
    std::array<std::atomic<std::uint64_t>, kTaskEvents> counts{};
  };
  static_assert(sizeof(Stripe) % kCacheLine == 0, "a stripe shares no line with the next");
  std::array<Stripe, kStripes> stripes_;
};

}  // namespace brisk::detail

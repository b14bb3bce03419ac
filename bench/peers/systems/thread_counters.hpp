// A counter split into per-thread cache lines: adding costs no cross-core
// traffic; only the (rare) reader of the sum touches every line. Used to count
// completions without making the count itself the bottleneck being measured.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace peers {

class ThreadCounters {
 public:
  void add(std::uint64_t n) noexcept {
    // release: whoever sees the new sum also sees the task's effects.
    // fetch_add, not load+store: two threads may share a slot past kSlots.
    slots_[my_slot()].value.fetch_add(n, std::memory_order_release);
  }

  std::uint64_t sum() const noexcept {
    std::uint64_t total = 0;
    for (const Slot& s : slots_) total += s.value.load(std::memory_order_acquire);
    return total;
  }

 private:
  static constexpr std::size_t kSlots = 64;
  struct alignas(64) Slot {
    std::atomic<std::uint64_t> value{0};
  };

  static std::size_t my_slot() noexcept {
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t slot = next.fetch_add(1, std::memory_order_relaxed) % kSlots;
    return slot;
  }

  std::array<Slot, kSlots> slots_{};
};

}  // namespace peers

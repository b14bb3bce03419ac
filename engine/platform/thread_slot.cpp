#include "platform/thread_slot.hpp"

#include <atomic>

namespace brisk::detail {

namespace {

constexpr std::size_t kUnasked = ~std::size_t{0};

std::atomic<bool> slot_held[kThreadSlots];

// Trivially destructible, so still readable while other thread-locals are
// destroyed at thread exit (after the release below it says kNoThreadSlot).
thread_local std::size_t this_slot = kUnasked;

struct GiveBackAtExit {
  ~GiveBackAtExit() {
    // release: this thread's writes to its part happen before the next
    // holder's acquire in take_slot().
    if (this_slot < kThreadSlots) slot_held[this_slot].store(false, std::memory_order_release);
    this_slot = kNoThreadSlot;
  }
};

std::size_t take_slot() noexcept {
  for (std::size_t i = 0; i < kThreadSlots; ++i) {
    // acquire: see what the slot's last holder wrote (its release above).
    if (!slot_held[i].load(std::memory_order_relaxed) && !slot_held[i].exchange(true, std::memory_order_acquire)) {
      return i;
    }
  }
  return kNoThreadSlot;
}

}  // namespace

std::size_t this_thread_slot() noexcept {
  if (this_slot == kUnasked) [[unlikely]] {
    this_slot = take_slot();
    thread_local GiveBackAtExit give_back;  // constructed once, on this first call
    (void)give_back;
  }
  return this_slot;
}

}  // namespace brisk::detail

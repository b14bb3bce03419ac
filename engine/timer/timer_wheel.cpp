#include "timer/timer_wheel.hpp"

#include <limits>

namespace brisk::detail {

TimerWheel::TimerWheel(std::int64_t now_ns, std::chrono::nanoseconds tick)
    : origin_ns_(now_ns), tick_ns_(static_cast<std::uint64_t>(tick.count())) {
  assert(tick.count() > 0);
  for (TimerNode& head : heads_) head.prev = head.next = &head;
  expired_.prev = expired_.next = &expired_;
  overflow_.prev = overflow_.next = &overflow_;
}

std::optional<TimerWheel::Event> TimerWheel::next_event() const noexcept {
  // Every timer at level L lies ahead of now_tick_ within the current turn
  // of L, i.e. before anything at level L + 1: the lowest occupied level
  // holds the next event, in its lowest occupied slot.
  for (int level = 0; level < kLevels; ++level) {
    const std::uint64_t mask = occupied_[level];
    if (mask == 0) continue;
    const int slot = std::countr_zero(mask);
    const int slot_shift = level * kSlotBits;
    const int turn_shift = slot_shift + kSlotBits;
    const std::uint64_t turn_start = now_tick_ >> turn_shift << turn_shift;
    assert(static_cast<std::uint64_t>(slot) > (now_tick_ >> slot_shift & (kSlots - 1)));
    return Event{turn_start | static_cast<std::uint64_t>(slot) << slot_shift,
                 const_cast<TimerNode*>(&heads_[level * kSlots + slot])};
  }
  if (overflow_.next != &overflow_) {
    constexpr int kTopTurnShift = kLevels * kSlotBits;
    return Event{((now_tick_ >> kTopTurnShift) + 1) << kTopTurnShift, const_cast<TimerNode*>(&overflow_)};
  }
  return std::nullopt;
}

std::optional<std::int64_t> TimerWheel::next_due_ns() const noexcept {
  if (expired_.next != &expired_) return time_of(now_tick_);
  if (const auto event = next_event()) return time_of(event->tick);
  return std::nullopt;
}

// origin + tick * tick_ns, saturated: a far overflow turn with a coarse tick
// lies beyond the int64 nanosecond range.
std::int64_t TimerWheel::time_of(std::uint64_t tick) const noexcept {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  // Exact for any origin: the distance from origin to kMax fits in uint64.
  const std::uint64_t room = static_cast<std::uint64_t>(kMax) - static_cast<std::uint64_t>(origin_ns_);
  std::uint64_t since = 0;
  if (__builtin_mul_overflow(tick, tick_ns_, &since) || since > room) return kMax;
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(origin_ns_) + since);
}

}  // namespace brisk::detail

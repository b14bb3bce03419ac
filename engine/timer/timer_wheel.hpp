// TimerWheel: a hierarchical timing wheel (Varghese & Lauck, 1987) holding
// the engine's delayed tasks, retry backoffs and rate-limit waits.
//
// Ownership. A wheel belongs to one thread: the DelayScheduler's timer
// thread, which moves timers in from its MPSC inbox, calls advance() with the
// clock's now and sleeps until next_due_ns(). Nothing here is atomic, and no
// member may be called from another thread.
//
// Layout. Time counts in ticks since construction. Level L (0..5) has 64
// slots of 64^L ticks each: level 0 covers 64 ticks, level 5 covers 2^36
// ticks (795 days at 1 ms). A timer due at tick d, while the wheel stands at
// tick n, goes to the level of the highest base-64 digit in which d and n
// differ, into the slot named by d's digit there. That slot lies ahead of n
// in the current turn of its level, so a slot never mixes two turns. Timers
// beyond the top level wait in an overflow list.
//
// Cascading. When the wheel reaches the first tick of an occupied slot above
// level 0, that slot's timers are filed again from the new tick: each lands
// at least one level lower (or fires, if due on that very tick). A level-0
// slot holds the timers of a single tick and simply fires. The overflow list
// is filed again each time the top level completes a turn.
//
// Precision. A timer due at t is filed under the first tick boundary at or
// after t and fires on the first advance(now) with now >= that boundary:
// never before t, at most one tick after it.
//
// Costs. insert() and cancel() are O(1): a division, a few bit operations
// and a list splice. Nodes are intrusive, so the wheel never allocates; its
// own footprint is fixed (about 9 KiB). advance() visits occupied slots only,
// found with one 64-bit occupancy mask per level, so an idle gap of any
// length costs O(levels) per slot reached, and a timer moves at most once per
// level. An empty wheel has no next_due_ns(): nobody needs to tick it.
// A cascade walks its slot's list, one node after the other: a few ns per
// timer in cache, but a cache miss each (~130 ns) when the nodes lie scattered
// over a large heap, so a slot holding a million such timers holds up the
// owner thread for ~0.1 s once per turn of that slot (bench: BM_TimerCascade).
#pragma once

#include <array>
#include <bit>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace brisk::detail {

// Embedded in whatever is scheduled (the engine's TaskRecord), so scheduling
// allocates nothing. Linked exactly while pending in a wheel. A node must be
// cancelled before its memory is reused.
struct TimerNode {
  TimerNode* prev = nullptr;
  TimerNode* next = nullptr;
  std::int64_t due_ns = 0;  // written by TimerWheel::insert()
};

class TimerWheel {
 public:
  static constexpr int kLevels = 6;
  static constexpr int kSlotBits = 6;
  static constexpr int kSlots = 1 << kSlotBits;

  // now_ns: the clock's current time, which advance() then never goes below.
  // tick > 0: the granularity of expiry.
  explicit TimerWheel(std::int64_t now_ns, std::chrono::nanoseconds tick = std::chrono::milliseconds(1));
  // Slot heads point at themselves, and pending nodes point at slot heads.
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Schedules an unlinked node. A due time already passed fires at the next
  // advance().
  void insert(TimerNode* node, std::int64_t due_ns) noexcept {
    assert(!linked(node));
    node->due_ns = due_ns;
    ++size_;
    const std::uint64_t due = due_tick(due_ns);
    if (due <= now_tick_) {
      push_back(&expired_, node);
    } else {
      file(node, due);
    }
  }

  // Unlinks a pending node; false (and nothing done) if it was not pending.
  bool cancel(TimerNode* node) noexcept {
    if (!linked(node)) return false;
    TimerNode* prev = node->prev;
    unlink(node);
    --size_;
    if (prev->next == prev) mark_if_slot_empty(prev);
    return true;
  }

  static bool linked(const TimerNode* node) noexcept { return node->next != nullptr; }

  // Moves the wheel to now_ns (never backwards) and calls on_expired(node)
  // for every node due by then, each unlinked before its call. on_expired
  // may insert (a re-armed node fires in this call if due by now_ns and
  // later than the slot being fired, else at the next advance) and may
  // cancel; it must not call advance(). Returns the number of calls.
  template <class OnExpired>
  std::size_t advance(std::int64_t now_ns, OnExpired&& on_expired) {
    std::size_t fired = 0;
    TimerNode batch;
    batch.prev = batch.next = &batch;
    // Past-due inserts go first, taken out beforehand so that a callback
    // re-arming into the past waits for the next advance instead of looping.
    move_all(&expired_, &batch);
    fired += fire_or_refile(&batch, on_expired);
    const std::uint64_t target = elapsed_ticks(now_ns);
    for (auto event = next_event(); event && event->tick <= target; event = next_event()) {
      now_tick_ = event->tick;
      move_all(event->list, &batch);
      mark_if_slot_empty(event->list);
      fired += fire_or_refile(&batch, on_expired);
    }
    if (target > now_tick_) now_tick_ = target;
    return fired;
  }

  // When the next advance() has work: the exact firing time if that is a
  // level-0 slot (or a past-due insert, then a time already reached), else
  // the start of the higher slot to cascade, which is no later than any
  // expiry in it. Sleeping until this value never oversleeps an expiry; a
  // lone far timer costs at most one wake-up per level. nullopt when empty.
  std::optional<std::int64_t> next_due_ns() const noexcept;

  std::size_t size() const noexcept { return size_; }
  std::int64_t tick_ns() const noexcept { return static_cast<std::int64_t>(tick_ns_); }

 private:
  struct Event {
    std::uint64_t tick;  // the wheel's tick when the event happens
    TimerNode* list;     // what to fire or cascade then
  };

  // The earliest occupied slot (or the overflow list, at the end of the
  // top level's turn), if any.
  std::optional<Event> next_event() const noexcept;

  // First tick boundary at or after due_ns: firing there is never early.
  std::uint64_t due_tick(std::int64_t due_ns) const noexcept {
    if (due_ns <= origin_ns_) return 0;
    const std::uint64_t since = static_cast<std::uint64_t>(due_ns) - static_cast<std::uint64_t>(origin_ns_);
    return since / tick_ns_ + (since % tick_ns_ != 0);
  }
  // Last tick boundary at or before now_ns: the tick advance() may reach.
  std::uint64_t elapsed_ticks(std::int64_t now_ns) const noexcept {
    if (now_ns <= origin_ns_) return 0;
    return (static_cast<std::uint64_t>(now_ns) - static_cast<std::uint64_t>(origin_ns_)) / tick_ns_;
  }

  // Requires due > now_tick_.
  void file(TimerNode* node, std::uint64_t due) noexcept {
    const int level = (static_cast<int>(std::bit_width(due ^ now_tick_)) - 1) / kSlotBits;
    if (level >= kLevels) {
      push_back(&overflow_, node);
      return;
    }
    const auto slot = static_cast<int>(due >> (level * kSlotBits)) & (kSlots - 1);
    push_back(&heads_[level * kSlots + slot], node);
    occupied_[level] |= std::uint64_t{1} << slot;
  }

  // Fires every node of `batch` due by now_tick_ and files the others again
  // (a cascade). Callbacks may cancel nodes still in the batch.
  template <class OnExpired>
  std::size_t fire_or_refile(TimerNode* batch, OnExpired& on_expired) {
    std::size_t fired = 0;
    while (batch->next != batch) {
      TimerNode* node = batch->next;
      unlink(node);
      const std::uint64_t due = due_tick(node->due_ns);
      if (due <= now_tick_) {
        --size_;
        ++fired;
        on_expired(node);
      } else {
        file(node, due);
      }
    }
    return fired;
  }

  // Clears the occupancy bit of `head` if it is a slot head (its list is
  // known to be empty). Found by address, so nodes need no slot field.
  void mark_if_slot_empty(const TimerNode* head) noexcept {
    const auto offset = reinterpret_cast<std::uintptr_t>(head) - reinterpret_cast<std::uintptr_t>(heads_.data());
    const std::size_t index = offset / sizeof(TimerNode);  // huge if head is below heads_
    if (index < heads_.size()) occupied_[index / kSlots] &= ~(std::uint64_t{1} << (index % kSlots));
  }

  static void push_back(TimerNode* head, TimerNode* node) noexcept {
    node->prev = head->prev;
    node->next = head;
    head->prev->next = node;
    head->prev = node;
  }
  static void unlink(TimerNode* node) noexcept {
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = nullptr;
  }
  // Moves every node of `from` to the end of `to`.
  static void move_all(TimerNode* from, TimerNode* to) noexcept {
    if (from->next == from) return;
    from->next->prev = to->prev;
    to->prev->next = from->next;
    from->prev->next = to;
    to->prev = from->prev;
    from->prev = from->next = from;
  }

  std::int64_t time_of(std::uint64_t tick) const noexcept;

  const std::int64_t origin_ns_;
  const std::uint64_t tick_ns_;
  std::uint64_t now_tick_ = 0;  // every timer due at or before it has fired
  std::size_t size_ = 0;
  std::array<std::uint64_t, kLevels> occupied_{};  // bit s: slot s is not empty
  std::array<TimerNode, kLevels * kSlots> heads_;  // circular lists, heads link to themselves
  TimerNode expired_;   // inserted already due: fire on the next advance
  TimerNode overflow_;  // beyond the top level
};

}  // namespace brisk::detail

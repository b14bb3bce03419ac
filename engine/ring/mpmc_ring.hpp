// MpmcRing: a bounded multi-producer multi-consumer ring buffer.
//
// Dmitry Vyukov's bounded MPMC queue: every slot carries a sequence number
// that says whose turn it is. For position p (a 64-bit ever-increasing
// counter) in slot p & mask:
//   seq == p        the slot is free for the producer that claims p
//   seq == p + 1    the slot holds the item for the consumer that claims p
// and a consumer that empties it stores p + capacity, freeing it for the next
// lap. Producers claim positions by CAS on tail_, consumers on head_; the
// slot's sequence then hands the data over. No lock, no allocation after
// construction, and 64-bit positions never wrap in practice.
//
// Guarantees and costs (read these before relying on it):
// * Linearizable FIFO per producer: two items enqueued by one thread are
//   dequeued in that order (by whichever consumers take them).
// * Not lock-free in the strict sense: a producer preempted between its CAS
//   and its sequence store holds back consumers of that one slot (they see
//   "empty" until it resumes). Other producers and slots are unaffected.
// * One cache line per slot (T must fit in 56 bytes), and head_ and tail_ on
//   lines of their own, so producers and consumers do not false-share.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "platform/cache_line.hpp"
#include "platform/cpu_relax.hpp"
#include "platform/new_array.hpp"

namespace brisk::detail {

template <class T>
class MpmcRing {
  static_assert(std::is_nothrow_move_constructible_v<T> && std::is_nothrow_destructible_v<T>);

 public:
  static constexpr std::size_t kMaxCapacity = std::size_t{1} << 24;

  // capacity: a power of two in [2, kMaxCapacity]; the caller validates.
  explicit MpmcRing(std::size_t capacity)
      : mask_(capacity - 1), slots_(new_array<Slot>(capacity)) {
    // Producers CAS tail_, consumers head_: each on a line of its own, and
    // neither on the line of the read-mostly mask_ and slots_.
    BRISK_ASSERT_LINES_APART(MpmcRing, slots_, tail_);
    BRISK_ASSERT_LINES_APART(MpmcRing, tail_, head_);
    BRISK_ASSERT_LAST_LINE_ALONE(MpmcRing, head_);
    for (std::size_t i = 0; i < capacity; ++i) {
      // relaxed: the ring is published to other threads by the thread that
      // starts them, which orders these stores.
      slots_[i].seq.store(i, std::memory_order_relaxed);
    }
  }

  ~MpmcRing() {
    T item;
    while (try_pop(item)) {
    }
  }

  MpmcRing(const MpmcRing&) = delete;
  MpmcRing& operator=(const MpmcRing&) = delete;

  std::size_t capacity() const noexcept { return mask_ + 1; }
  // What the constructor allocates for `capacity` slots (the engine checks a
  // configuration's total against the machine's memory first).
  static constexpr std::size_t allocated_bytes(std::size_t capacity) noexcept { return capacity * sizeof(Slot); }

  // A position claimed by try_claim() and not yet published: its slot holds
  // back the consumers of this ring (they see "empty" there) until publish().
  class Claim {
   public:
    Claim() = default;
    explicit operator bool() const noexcept { return slot_ != nullptr; }

   private:
    friend class MpmcRing;
    Claim(void* slot, std::uint64_t pos) : slot_(slot), pos_(pos) {}
    void* slot_ = nullptr;
    std::uint64_t pos_ = 0;
  };

  // Claims the next position, or returns an empty Claim when the ring is
  // full. The claim must be published, promptly: while it is open no
  // consumer gets past it. For a producer that must do something that can
  // still fail (log the item) only once the ring is known to have room.
  Claim try_claim() noexcept {
    std::uint64_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      Slot& slot = slots_[pos & mask_];
      // acquire: pairs with the consumer's release of seq, so its move out of
      // the slot finished before we overwrite the slot.
      const std::uint64_t seq = slot.seq.load(std::memory_order_acquire);
      const std::int64_t diff = static_cast<std::int64_t>(seq - pos);
      if (diff == 0) {
        // seq_cst (not just relaxed): the CAS on tail_ is the store that idle
        // workers' seq_cst re-check of tail() must see, or the producer's
        // seq_cst read of the parking word must see the worker; see
        // park/idle_workers.hpp. On x86 a CAS costs the same either way.
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_seq_cst,
                                        std::memory_order_relaxed)) {
          return Claim(&slot, pos);
        }
      } else if (diff < 0) {
        return {};  // the slot still holds last lap's item: full
      } else {
        pos = tail_.load(std::memory_order_relaxed);  // another producer won
      }
    }
  }

  // Moves item into the claimed slot and hands it to the consumers.
  void publish(Claim claim, T&& item) noexcept {
    Slot& slot = *static_cast<Slot*>(claim.slot_);
    ::new (static_cast<void*>(slot.storage)) T(std::move(item));
    // release: publishes the item to the consumer that acquires seq.
    slot.seq.store(claim.pos_ + 1, std::memory_order_release);
  }

  // Moves item in and returns true, or returns false (item untouched) when
  // the ring is full.
  bool try_push(T& item) noexcept {
    const Claim claim = try_claim();
    if (!claim) return false;
    publish(claim, std::move(item));
    return true;
  }

  // Claims up to n consecutive positions with one CAS and moves items[0..k)
  // in. Returns k (0 when full). Slots in the claimed range that a slow
  // consumer of the previous lap is still reading are waited for (briefly).
  std::size_t try_push_bulk(T* items, std::size_t n) noexcept {
    std::uint64_t pos = tail_.load(std::memory_order_relaxed);
    std::size_t k;
    for (;;) {
      // Free slots as far as we can tell from head_; exact check is per slot.
      // acquire: see the consumers' claims up to head.
      const std::uint64_t head = head_.load(std::memory_order_acquire);
      const std::uint64_t used = pos - head;
      if (static_cast<std::int64_t>(used) < 0) {  // stale pos
        pos = tail_.load(std::memory_order_relaxed);
        continue;
      }
      const std::uint64_t free = capacity() > used ? capacity() - used : 0;
      k = static_cast<std::size_t>(std::min<std::uint64_t>(n, free));
      if (k == 0) return 0;
      // seq_cst for the parking protocol, as in try_push.
      if (tail_.compare_exchange_weak(pos, pos + k, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
        break;
      }
    }
    for (std::size_t i = 0; i < k; ++i) {
      Slot& slot = slots_[(pos + i) & mask_];
      // The consumer that claimed this slot last lap has advanced head_ but
      // may still be moving the item out; wait for its release of seq.
      while (slot.seq.load(std::memory_order_acquire) != pos + i) cpu_relax();
      ::new (static_cast<void*>(slot.storage)) T(std::move(items[i]));
      slot.seq.store(pos + i + 1, std::memory_order_release);
    }
    return k;
  }

  // Moves the oldest item into out and returns true, or returns false when
  // the ring is empty (or its head slot is still being written).
  bool try_pop(T& out) noexcept {
    std::uint64_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      Slot& slot = slots_[pos & mask_];
      // acquire: pairs with the producer's release; the item is fully built.
      const std::uint64_t seq = slot.seq.load(std::memory_order_acquire);
      const std::int64_t diff = static_cast<std::int64_t>(seq - (pos + 1));
      if (diff == 0) {
        // acq_rel: release so that drain(), which acquires head_, sees every
        // store the consumer made before claiming (its busy marker); relaxed
        // would do for the queue alone.
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_acq_rel,
                                        std::memory_order_relaxed)) {
          T* item = std::launder(reinterpret_cast<T*>(slot.storage));
          out = std::move(*item);
          item->~T();
          // release: our move-out is done before the producer of the next
          // lap (which acquires seq) writes the slot.
          slot.seq.store(pos + mask_ + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;  // empty (or the producer of pos has not finished)
      } else {
        pos = head_.load(std::memory_order_relaxed);  // another consumer won
      }
    }
  }

  // Moves the oldest half (rounded up) of the published items, at most max,
  // into out[0..k) with one claim on the head, and returns k (0 when empty).
  // Only items already fully published are claimed, so this never waits for
  // a producer; leaving half behind keeps work for other consumers (a
  // worker's claimed batch cannot be stolen).
  std::size_t try_pop_bulk(T* out, std::size_t max) noexcept {
    std::uint64_t pos = head_.load(std::memory_order_relaxed);
    std::size_t k;
    for (;;) {
      k = 0;
      // acquire on each seq: pairs with the producers' release; items built.
      while (k < max && slots_[(pos + k) & mask_].seq.load(std::memory_order_acquire) == pos + k + 1) ++k;
      k = (k + 1) / 2;
      if (k == 0) {
        const std::uint64_t seq = slots_[pos & mask_].seq.load(std::memory_order_acquire);
        if (static_cast<std::int64_t>(seq - (pos + 1)) < 0) return 0;  // empty
        pos = head_.load(std::memory_order_relaxed);  // another consumer moved on
        continue;
      }
      // acq_rel, as in try_pop.
      if (head_.compare_exchange_weak(pos, pos + k, std::memory_order_acq_rel, std::memory_order_relaxed)) break;
    }
    for (std::size_t i = 0; i < k; ++i) {
      Slot& slot = slots_[(pos + i) & mask_];
      T* item = std::launder(reinterpret_cast<T*>(slot.storage));
      out[i] = std::move(*item);
      item->~T();
      // release: move-out done before the next lap's producer writes.
      slot.seq.store(pos + i + mask_ + 1, std::memory_order_release);
    }
    return k;
  }

  // Monotonic counts: tail() = items ever claimed by producers, head() = ever
  // claimed by consumers. seq_cst loads: the idle-worker re-check relies on
  // them (park/idle_workers.hpp); they are plain loads on x86.
  std::uint64_t tail() const noexcept { return tail_.load(std::memory_order_seq_cst); }
  std::uint64_t head() const noexcept { return head_.load(std::memory_order_seq_cst); }
  std::size_t size_approx() const noexcept {
    const std::uint64_t h = head(), t = tail();
    return t > h ? static_cast<std::size_t>(t - h) : 0;
  }
  bool empty_approx() const noexcept { return tail() == head(); }

 private:
  struct alignas(kCacheLine) Slot {
    std::atomic<std::uint64_t> seq;
    alignas(T) unsigned char storage[sizeof(T)];
  };
  static_assert(sizeof(Slot) == kCacheLine, "one slot per cache line");

  const std::uint64_t mask_;
  std::unique_ptr<Slot[]> slots_;
  alignas(kCacheLine) std::atomic<std::uint64_t> tail_{0};
  // Its line is its own to the end: alignas rounds the ring's size up (the
  // constructor asserts it), so no padding member is needed.
  alignas(kCacheLine) std::atomic<std::uint64_t> head_{0};
};

}  // namespace brisk::detail

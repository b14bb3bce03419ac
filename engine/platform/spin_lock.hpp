// SpinLock: a mutex for critical sections of tens of nanoseconds, such as a
// log stream's append. It spins a little before sleeping, like glibc's
// adaptive mutex, but spins by *reading* the lock word: a waiter that keeps
// trying to take it (a compare-exchange each time, as a try_lock loop over
// std::mutex does) pulls the line away from the holder, whose unlock then
// misses. With the two vCPUs far apart (~270 ns a transfer), spinning by
// reading took durable throughput from 1.59M to 1.94M tasks/s (medians of 4
// and 5 interleaved runs, 2026-11-24). After the spins it sleeps on the word
// (park/futex.hpp: a plain FUTEX_WAIT), so a holder that lost its CPU does
// not leave waiters burning theirs. Drepper's "Futexes Are Tricky", mutex 3.
// BasicLockable: use it with std::unique_lock and std::condition_variable_any.
#pragma once

#include <atomic>
#include <cstdint>

#include "park/futex.hpp"
#include "platform/cpu_relax.hpp"

namespace brisk::detail {

class SpinLock {
 public:
  bool try_lock() noexcept {
    std::uint32_t expected = kFree;
    // acquire: the holder sees what the previous holder wrote before unlock.
    return word_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire, std::memory_order_relaxed);
  }

  void lock() noexcept {
    for (int i = 0; i < kSpins; ++i) {
      // relaxed: only a hint of when to try; try_lock's acquire orders.
      if (word_.load(std::memory_order_relaxed) == kFree && try_lock()) return;
      cpu_relax();
    }
    // Sleep: mark the lock contended so its unlock wakes someone. acquire,
    // as try_lock: taking it here (exchange returned kFree) is a lock.
    while (word_.exchange(kContended, std::memory_order_acquire) != kFree) {
      futex_wait(word_, kContended);
    }
  }

  void unlock() noexcept {
    // release: the next holder sees this critical section's writes.
    if (word_.exchange(kFree, std::memory_order_release) == kContended) futex_wake(word_, 1);
  }

 private:
  static constexpr std::uint32_t kFree = 0;
  static constexpr std::uint32_t kLocked = 1;
  static constexpr std::uint32_t kContended = 2;  // locked, and someone may sleep on it
  // Each spin is one read and a PAUSE (~40 cycles): 64 cover a critical
  // section of a few hundred ns, longer than an append takes.
  static constexpr int kSpins = 64;
  std::atomic<std::uint32_t> word_{kFree};
};

}  // namespace brisk::detail

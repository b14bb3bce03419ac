// IdleWorkers: who is looking for work, who is asleep, and how to wake one
// without ever losing a wake-up.
//
// A worker with nothing in its own shard becomes a *searcher*: it polls every
// ring for a while (EngineConfig::spin_polls). A producer that has just made
// work visible wakes a sleeper only when nobody is searching, because a
// searcher will find the work without a system call. A searcher that gives
// up becomes a *sleeper* and parks on a futex (epoch_).
//
// The no-lost-wake-up argument (a Dekker handshake over seq_cst operations):
//   producer:  P1 CAS ring tail (seq_cst)      P2 load state_ (seq_cst)
//   worker:    W1 state_ RMW: searcher->sleeper (seq_cst)   W2 load every ring tail (seq_cst)
// All four are in one total order S. If P2 comes before W1 in S, then P1 < W1 < W2
// and the worker's re-check W2 sees the new tail and does not park. If W1
// comes before P2, the producer sees the sleeper and wakes it. Either way the
// item is not stranded. The futex itself: the worker reads epoch_ *before* W1
// and sleeps only while epoch_ still has that value; every wake bumps epoch_
// first, so a wake between the re-check and the sleep makes FUTEX_WAIT return
// at once.
//
// One wake at a time (wake_pending_). A woken worker takes microseconds to
// run, and until it leaves sleep it still counts as a sleeper: without the
// flag every post in that window made its own FUTEX_WAKE (1.06M system
// calls for 2.5M empty tasks once workers park quickly, issue 22). A
// producer that finds a wake pending skips its own. Why no item is
// stranded by the skip:
//   producer P skips:  P1 ring CAS, P2 load state_, P3 load wake_pending_ == 1
//   the wake that set it (producer Q): exchange 0 -> 1, then epoch bump, FUTEX_WAKE
//   a worker clears it (seq_cst store 0) on its way to sleep (after reading
//   the epoch, before W1 and W2), and after it leaves sleep.
// P3 read Q's 1, so any clear after Q's exchange in the flag's modification
// order comes after P3 in S, and so after P1. Some worker clears after the
// exchange: a worker that read the epoch before Q's bump returns from
// FUTEX_WAIT (woken, or the epoch moved) and clears on the way out; one that
// read it after the bump (acquire, pairing with the bump's release) clears
// after the exchange on its way to sleep. If no worker is in FUTEX_WAIT at
// the wake, the flag stays set only until the next worker goes to sleep,
// which clears it first, and until then no worker sleeps (nothing to wake).
// The clearing worker then either searches (and runs what it finds) or
// goes to sleep through W2, a seq_cst re-check after its clear in S, which
// sees P's item: it does not sleep while the item waits. What it finds may
// be only part of what was posted (a claim takes half of a ring), so when
// it takes work it looks at every ring again (seq_cst loads, after its
// clear in S: they see P's item if it is still there) and calls
// notify_work() if any holds work (Worker::run): another sleeper is woken,
// and is a clearing worker in turn. The same holds for the last searcher
// to find work: producers skipped their wakes while it searched.
#pragma once

#include <atomic>
#include <cstdint>

#include "park/futex.hpp"
#include "platform/cache_line.hpp"

namespace brisk::detail {

class IdleWorkers {
 public:
  IdleWorkers() noexcept {
    // Every search and park updates state_; every wake bumps epoch_: lines
    // of their own, epoch_'s to the end of the structure.
    BRISK_ASSERT_LINES_APART(IdleWorkers, state_, epoch_);
    BRISK_ASSERT_LAST_LINE_ALONE(IdleWorkers, epoch_);
  }

  // ---- producer side ----

  // Call after making work visible (after the ring CAS). Cheap when workers
  // are busy or one is searching: a single load.
  void notify_work() noexcept {
    const std::uint64_t s = state_.load(std::memory_order_seq_cst);  // P2
    if (searchers(s) == 0 && sleepers(s) != 0) {
      // P3, seq_cst: the load and the exchange take part in the argument
      // above (a producer that skips is ordered before the next clear).
      if (wake_pending_.load(std::memory_order_seq_cst) == 0 &&
          wake_pending_.exchange(1, std::memory_order_seq_cst) == 0) {
        wake(1);
      }
    }
  }

  // Wakes every sleeper (shutdown, drain, timer changes).
  void wake_all() noexcept { wake(-1); }

  // ---- worker side ----

  void begin_search() noexcept { state_.fetch_add(kSearcher, std::memory_order_seq_cst); }
  // Returns true when this worker was the last searcher: the caller should
  // then wake a sleeper if more work is visible, so that a burst is shared.
  bool end_search() noexcept {
    return searchers(state_.fetch_sub(kSearcher, std::memory_order_seq_cst)) == 1;
  }

  // Read before the re-check; pass to sleep().
  std::uint32_t epoch() const noexcept { return epoch_.load(std::memory_order_acquire); }
  // W1: searcher becomes sleeper in one atomic step (seq_cst, see above).
  // Call after epoch(): clears a pending wake first (see "One wake at a time").
  void searcher_to_sleeper() noexcept {
    wake_pending_.store(0, std::memory_order_seq_cst);  // seq_cst: before W1 and W2 in S
    state_.fetch_add(kSleeper - kSearcher, std::memory_order_seq_cst);
  }
  // The re-check found work: undo searcher_to_sleeper.
  void sleeper_to_searcher() noexcept {
    state_.fetch_sub(kSleeper - kSearcher, std::memory_order_seq_cst);
  }
  void sleep(std::uint32_t seen_epoch) noexcept { futex_wait(epoch_, seen_epoch); }
  // After sleep() returns (woken or not): no longer a sleeper. relaxed would
  // do for correctness (a stale "sleeper" only costs a spurious wake), but
  // seq_cst keeps every transition of state_ in the one order S.
  // Also clears a pending wake: this worker searches next.
  void leave_sleep() noexcept {
    state_.fetch_sub(kSleeper, std::memory_order_seq_cst);
    wake_pending_.store(0, std::memory_order_seq_cst);  // seq_cst: before this worker's next search and W2 in S
  }

  std::uint32_t sleeping() const noexcept {
    return sleepers(state_.load(std::memory_order_relaxed));
  }

 private:
  static constexpr std::uint64_t kSearcher = 1;
  static constexpr std::uint64_t kSleeper = std::uint64_t{1} << 32;
  static std::uint32_t searchers(std::uint64_t s) noexcept { return static_cast<std::uint32_t>(s); }
  static std::uint32_t sleepers(std::uint64_t s) noexcept { return static_cast<std::uint32_t>(s >> 32); }

  void wake(int count) noexcept {
    // release: a woken worker that acquires epoch_ sees what the waker did.
    epoch_.fetch_add(1, std::memory_order_release);
    futex_wake(epoch_, count);
  }

  alignas(kCacheLine) std::atomic<std::uint64_t> state_{0};  // sleepers << 32 | searchers
  alignas(kCacheLine) std::atomic<std::uint32_t> epoch_{0};  // its line to the end (alignas rounds the size)
  std::atomic<std::uint32_t> wake_pending_{0};  // 1: a wake is on its way (with epoch_: both change at a wake)
};

}  // namespace brisk::detail

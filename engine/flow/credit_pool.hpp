// CreditPool: credit-based backpressure in the reactive-streams style.
//
// The engine owns `capacity` credits. A producer spends one per task it
// submits and a task gives its credit back when it reaches a final outcome,
// so accepted-but-unfinished work (queued, running, delayed, waiting for a
// retry) never exceeds capacity, whatever producers do. Producers take
// credits in chunks (Producer caches them) so the shared counter is touched
// once per chunk, not once per task; workers give back in batches too.
//
// Waiting for credits: request(n, callback) grants n credits as soon as they
// are available and then calls callback. Waiters are served in FIFO order,
// under a mutex: the waiting path is the slow path by definition.
//
// No lost grant: give_back() does an RMW on available_ and then reads
// has_waiters_; request() sets has_waiters_ and then re-reads available_
// under the mutex. Both pairs are seq_cst, so (as in a Dekker handshake) at
// least one side sees the other: either give_back() serves the new waiter or
// request() finds the returned credits itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

#include "platform/cache_line.hpp"

namespace brisk::detail {

class CreditPool {
 public:
  using Grant = std::function<void(std::int64_t granted)>;

  explicit CreditPool(std::int64_t capacity) : capacity_(capacity), available_(capacity) {
    // Producers take from available_ all the time; has_waiters_ (with the
    // waiters under the mutex) and the return-rate statistics are written
    // at other moments, by other threads: three lines.
    BRISK_ASSERT_LINES_APART(CreditPool, capacity_, available_);
    BRISK_ASSERT_LINES_APART(CreditPool, available_, has_waiters_);
    BRISK_ASSERT_LINES_APART(CreditPool, next_ticket_, last_return_ns_);
  }

  // Takes between 1 and want credits if any are free and no one is queued
  // ahead; returns how many (0: none, backpressure).
  std::int64_t take(std::int64_t want) noexcept;

  // Returns n credits (tasks finished) and serves queued requests.
  void give_back(std::int64_t n);

  // Grants n credits (n <= capacity) when available, then calls grant(n):
  // at once on this thread if possible, otherwise later on the thread that
  // gives credits back (keep grant short). Returns a ticket for cancel().
  std::uint64_t request(std::int64_t n, Grant grant);
  // Withdraws a queued request. False if it was already granted.
  bool cancel(std::uint64_t ticket);

  // relaxed: a hint for batching returns; give_back() re-checks properly.
  bool has_waiters() const noexcept { return has_waiters_.load(std::memory_order_relaxed); }
  std::int64_t capacity() const noexcept { return capacity_; }
  std::int64_t available() const noexcept { return available_.load(std::memory_order_relaxed); }
  std::int64_t outstanding() const noexcept { return capacity_ - available(); }

  // A hint for "retry after": the recent mean time between credit returns.
  std::int64_t ns_per_credit() const noexcept { return ns_per_credit_.load(std::memory_order_relaxed); }
  void observe_return_rate(std::int64_t now_ns, std::int64_t returned) noexcept;

 private:
  struct Waiter {
    std::uint64_t ticket;
    std::int64_t need;
    Grant grant;
  };
  // Under mutex_: grants queued requests in order while credits last, and
  // moves the granted callbacks out to call them without the lock.
  void serve_locked(std::deque<Waiter>& ready);

  const std::int64_t capacity_;
  alignas(kCacheLine) std::atomic<std::int64_t> available_;
  alignas(kCacheLine) std::atomic<bool> has_waiters_{false};
  std::mutex mutex_;
  std::deque<Waiter> waiters_;
  std::uint64_t next_ticket_ = 1;
  // relaxed: advisory statistics for the retry hint.
  alignas(kCacheLine) std::atomic<std::int64_t> last_return_ns_{0};
  std::atomic<std::int64_t> ns_per_credit_{10'000};
};

}  // namespace brisk::detail

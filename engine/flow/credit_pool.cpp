#include "flow/credit_pool.hpp"

#include <algorithm>

namespace brisk::detail {

std::int64_t CreditPool::take(std::int64_t want) noexcept {
  // Queued requests come first: a producer that asks synchronously must not
  // overtake one that is waiting. relaxed: a stale "no waiters" only lets a
  // take() win a race it could have won anyway.
  if (has_waiters_.load(std::memory_order_relaxed)) return 0;
  std::int64_t avail = available_.load(std::memory_order_relaxed);
  while (avail > 0) {
    const std::int64_t got = std::min(avail, want);
    // relaxed: credits are a count; no data is published through them.
    if (available_.compare_exchange_weak(avail, avail - got, std::memory_order_relaxed)) return got;
  }
  return 0;
}

void CreditPool::give_back(std::int64_t n) {
  // seq_cst RMW then seq_cst load: the give_back half of the handshake.
  available_.fetch_add(n, std::memory_order_seq_cst);
  if (!has_waiters_.load(std::memory_order_seq_cst)) return;
  std::deque<Waiter> ready;
  {
    std::lock_guard lock(mutex_);
    serve_locked(ready);
  }
  for (Waiter& w : ready) w.grant(w.need);
}

void CreditPool::serve_locked(std::deque<Waiter>& ready) {
  while (!waiters_.empty()) {
    Waiter& front = waiters_.front();
    std::int64_t avail = available_.load(std::memory_order_relaxed);
    bool granted = false;
    while (avail >= front.need) {
      if (available_.compare_exchange_weak(avail, avail - front.need, std::memory_order_relaxed)) {
        granted = true;
        break;
      }
    }
    if (!granted) break;
    ready.push_back(std::move(front));
    waiters_.pop_front();
  }
  // seq_cst: pairs with give_back's load (see the header).
  has_waiters_.store(!waiters_.empty(), std::memory_order_seq_cst);
}

std::uint64_t CreditPool::request(std::int64_t n, Grant grant) {
  std::deque<Waiter> ready;
  std::uint64_t ticket;
  {
    std::lock_guard lock(mutex_);
    ticket = next_ticket_++;
    waiters_.push_back(Waiter{ticket, n, std::move(grant)});
    // Announce first, then look at available_ again (inside serve_locked).
    has_waiters_.store(true, std::memory_order_seq_cst);
    serve_locked(ready);
  }
  for (Waiter& w : ready) w.grant(w.need);
  return ticket;
}

bool CreditPool::cancel(std::uint64_t ticket) {
  std::deque<Waiter> ready;
  bool found = false;
  {
    std::lock_guard lock(mutex_);
    const auto it = std::find_if(waiters_.begin(), waiters_.end(),
                                 [ticket](const Waiter& w) { return w.ticket == ticket; });
    if (it != waiters_.end()) {
      waiters_.erase(it);
      found = true;
      // The withdrawn request may have blocked smaller ones behind it.
      serve_locked(ready);
    }
  }
  for (Waiter& w : ready) w.grant(w.need);
  return found;
}

void CreditPool::observe_return_rate(std::int64_t now_ns, std::int64_t returned) noexcept {
  const std::int64_t last = last_return_ns_.exchange(now_ns, std::memory_order_relaxed);
  if (last == 0 || returned <= 0 || now_ns <= last) return;
  const std::int64_t sample = (now_ns - last) / returned;
  const std::int64_t old = ns_per_credit_.load(std::memory_order_relaxed);
  ns_per_credit_.store(old + (sample - old) / 8, std::memory_order_relaxed);  // EWMA, 1/8
}

}  // namespace brisk::detail

#include "delay/delay_scheduler.hpp"

#include <sys/prctl.h>

#include <algorithm>
#include <limits>

#include "park/futex.hpp"

namespace brisk::detail {

DelayScheduler::DelayScheduler(const Clock& clock, std::chrono::nanoseconds tick, OnDue on_due)
    : clock_(clock), on_due_(std::move(on_due)), wheel_(clock.now_ns(), tick) {
  // Producers push inbox_; wakes go through wake_word_; drain()'s sync
  // words and the pending count are written at other moments: three lines,
  // apart from the scheduler thread's own state above.
  BRISK_ASSERT_LINES_APART(DelayScheduler, thread_, inbox_);
  BRISK_ASSERT_LINES_APART(DelayScheduler, inbox_, wake_word_);
  BRISK_ASSERT_LINES_APART(DelayScheduler, wake_word_, sync_requested_);
}

DelayScheduler::~DelayScheduler() { stop(); }

void DelayScheduler::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
}

void DelayScheduler::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true, std::memory_order_release);
  wake();
  thread_.join();
}

void DelayScheduler::schedule(TaskRecord& record, std::int64_t due_ns) {
  record.due_ns = due_ns;
  pending_.fetch_add(1, std::memory_order_relaxed);  // a gauge
  TaskRecord* head = inbox_.load(std::memory_order_relaxed);
  do {
    record.prev = head;  // the inbox link (TaskRecord's comment)
    // release: the record's fields (due_ns, the link) are visible to the
    // scheduler thread that takes the inbox with acquire.
  } while (!inbox_.compare_exchange_weak(head, &record, std::memory_order_release, std::memory_order_relaxed));
  // The thread may be sleeping until a later expiry: tell it. Only the push
  // onto an empty inbox needs to, the others find it non-empty.
  if (head == nullptr) wake();
}

void DelayScheduler::sync() {
  if (!thread_.joinable()) return;
  // acq_rel: orders our earlier schedule() calls before the request.
  const std::uint64_t ticket = sync_requested_.fetch_add(1, std::memory_order_acq_rel) + 1;
  wake();
  unsigned spins = 0;
  // acquire: pairs with the release store of sync_done_: what on_due did is visible.
  while (sync_done_.load(std::memory_order_acquire) < ticket) {
    if (++spins < 64) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }
}

void DelayScheduler::wake() noexcept {
  // release: the sleeper re-reads the inbox and flags after waking.
  wake_word_.fetch_add(1, std::memory_order_release);
  futex_wake(wake_word_, 1);
}

void DelayScheduler::take_inbox() {
  // acquire: pairs with schedule()'s release CAS.
  TaskRecord* r = inbox_.exchange(nullptr, std::memory_order_acquire);
  const std::int64_t tick = wheel_.tick_ns();
  while (r != nullptr) {
    auto* next = static_cast<TaskRecord*>(r->prev);
    // Filed a tick early (see the header): fire_due() adds the tick back.
    const std::int64_t due = r->due_ns;
    wheel_.insert(r, due >= std::numeric_limits<std::int64_t>::min() + tick ? due - tick
                                                                            : std::numeric_limits<std::int64_t>::min());
    r = next;
  }
}

void DelayScheduler::offer(TaskRecord* r) {
  if (on_due_(*r)) {
    pending_.fetch_sub(1, std::memory_order_relaxed);
  } else {
    refused_.push_back(r);
  }
}

void DelayScheduler::fire_due(std::int64_t now) {
  // Records refused last time go first: they were due earlier.
  std::vector<TaskRecord*> retry;
  retry.swap(refused_);
  for (TaskRecord* r : retry) offer(r);
  const std::int64_t tick = wheel_.tick_ns();
  wheel_.advance(now, [this, tick](TimerNode* node) {
    auto* r = static_cast<TaskRecord*>(node);
    r->due_ns += tick;  // its real due time (filed a tick early)
    imminent_.push_back(r);
  });
  // Everything the wheel fired is due within a tick; what is due now goes.
  std::erase_if(imminent_, [&](TaskRecord* r) {
    if (r->due_ns > now) return false;
    offer(r);
    return true;
  });
}

void DelayScheduler::run() {
  // Futex timeouts are precise to the ns, not the default 50 us of slack:
  // the imminent list sleeps until exact due times.
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  imminent_.reserve(1024);
  for (;;) {
    // Read the wake word before looking at the inbox, so a wake() after our
    // look makes the futex wait below return at once.
    const std::uint32_t seen = wake_word_.load(std::memory_order_acquire);
    const std::uint64_t sync_ticket = sync_requested_.load(std::memory_order_acquire);
    if (stopping_.load(std::memory_order_acquire)) return;
    take_inbox();
    const std::int64_t now = clock_.now_ns();
    fire_due(now);
    // release: everything on_due did is visible to sync()'s acquire.
    sync_done_.store(sync_ticket, std::memory_order_release);

    std::int64_t timeout_ns = -1;  // nothing pending: sleep until woken
    if (!refused_.empty()) {
      timeout_ns = wheel_.tick_ns();
    } else if (const auto next = wheel_.next_due_ns()) {
      timeout_ns = std::max<std::int64_t>(0, *next - now);
    }
    for (const TaskRecord* r : imminent_) {
      const std::int64_t wait = std::max<std::int64_t>(0, r->due_ns - now);
      if (timeout_ns < 0 || wait < timeout_ns) timeout_ns = wait;
    }
    if (timeout_ns != 0) futex_wait(wake_word_, seen, timeout_ns);
  }
}

}  // namespace brisk::detail

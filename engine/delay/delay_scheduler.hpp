// DelayScheduler: the one thread that owns the timer wheel.
//
// Named tasks that must wait (a delay, a retry backoff, a rate limit) are
// handed over with schedule(): a lock-free push onto an intrusive MPSC
// inbox, no allocation. The scheduler thread moves the inbox into the
// TimerWheel, advances the wheel to the clock's now, and hands every expired
// record to the engine's `on_due` callback, which puts it into a ring. It
// then sleeps on a futex exactly until the next expiry (or until a new
// record arrives): an idle engine does not tick.
//
// Precision. The wheel fires on tick boundaries: a timer filed at its due
// time would start up to a whole tick late, plus the thread's wake-up. So a
// record is filed one tick *early* (due - tick, which the wheel rounds up to
// a boundary at or before due), and what the wheel hands back before its
// real due time waits in a short `imminent_` list; the thread sleeps until
// the earliest of those exactly (timer slack 1 ns). A task then starts no
// earlier than its due time and late only by the wake-up and queueing
// (BM_DelayedFiringLateness), at the cost of holding up to one tick's worth
// of records in that list.
//
// When on_due cannot take a record (rings full), the record waits in a local
// list and is offered again on the next pass, a tick later: never dropped.
//
// sync() lets drain() (and tests on a ManualClock) wait until everything due
// at the time of the call has been handed to on_due.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "brisk/clock.hpp"
#include "platform/cache_line.hpp"
#include "task/task_record.hpp"
#include "timer/timer_wheel.hpp"

namespace brisk::detail {

class DelayScheduler {
 public:
  // on_due returns false when it could not take the record now.
  using OnDue = std::function<bool(TaskRecord&)>;

  DelayScheduler(const Clock& clock, std::chrono::nanoseconds tick, OnDue on_due);
  ~DelayScheduler();
  DelayScheduler(const DelayScheduler&) = delete;
  DelayScheduler& operator=(const DelayScheduler&) = delete;

  void start();
  // Stops and joins the thread. Records still pending stay where they are
  // (the caller owns their memory); pending() tells how many.
  void stop();

  // Any thread. The record must not be in the scheduler already.
  void schedule(TaskRecord& record, std::int64_t due_ns);
  // Returns once every record scheduled before the call and due at the
  // clock's now has been offered to on_due. Immediate if not started.
  void sync();

  // Records in the wheel, the inbox or the retry list (approximate).
  std::size_t pending() const noexcept { return pending_.load(std::memory_order_relaxed); }

 private:
  void run();
  void take_inbox();
  void fire_due(std::int64_t now);
  // Hands r to on_due, or keeps it in refused_ for the next pass.
  void offer(TaskRecord* r);
  void wake() noexcept;

  const Clock& clock_;
  const OnDue on_due_;
  TimerWheel wheel_;                    // owned by the scheduler thread
  std::vector<TaskRecord*> refused_;    // on_due said "not now"
  std::vector<TaskRecord*> imminent_;   // fired early by the wheel, due within a tick
  std::thread thread_;

  alignas(kCacheLine) std::atomic<TaskRecord*> inbox_{nullptr};
  alignas(kCacheLine) std::atomic<std::uint32_t> wake_word_{0};
  std::atomic<bool> stopping_{false};
  alignas(kCacheLine) std::atomic<std::uint64_t> sync_requested_{0};
  std::atomic<std::uint64_t> sync_done_{0};
  std::atomic<std::size_t> pending_{0};
};

}  // namespace brisk::detail

// DeferredDeadlines: the deferred attempts (TaskContext::defer) whose type
// has a hard time limit, in order of their deadlines, so the hard-limit
// watchdog finds the ones past it without looking at the others.
//
// Intrusive: a deferred record is in no ring and not in the timer, so its
// TimerNode (prev, next, due_ns) links it here and holds its deadline; no
// allocation. A SpinLock guards the list: it is taken twice per deferred
// attempt (add, remove) and once per watchdog period, for a few pointer
// writes, beside an attempt that waits on I/O for microseconds at least;
// types without a hard limit never come here.
#pragma once

#include <cstdint>
#include <mutex>

#include "platform/spin_lock.hpp"
#include "task/task_record.hpp"

namespace brisk::detail {

class DeferredDeadlines {
 public:
  DeferredDeadlines() { head_.prev = head_.next = &head_; }
  DeferredDeadlines(const DeferredDeadlines&) = delete;
  DeferredDeadlines& operator=(const DeferredDeadlines&) = delete;

  // Files the record under its deadline. Deadlines mostly come in order
  // (start + a type's limit), so the walk from the back is short.
  void add(TaskRecord& record, std::int64_t deadline_ns) noexcept {
    record.due_ns = deadline_ns;
    std::lock_guard lock(lock_);
    TimerNode* after = head_.prev;
    while (after != &head_ && after->due_ns > deadline_ns) after = after->prev;
    record.prev = after;
    record.next = after->next;
    after->next->prev = &record;
    after->next = &record;
  }

  // Unlinks a record that add() filed (its attempt ended).
  void remove(TaskRecord& record) noexcept {
    std::lock_guard lock(lock_);
    unlink(record);
  }

  // Unlinks the records past their deadline at now_ns for which claim(record)
  // returns true (it decides, under the lock, whether the watchdog or a
  // completion ends the attempt), and hands them to expire(record) after
  // the lock is let go. Records claim() refuses stay: their completion
  // unlinks them.
  template <class Claim, class Expire>
  void take_expired(std::int64_t now_ns, Claim&& claim, Expire&& expire) {
    TimerNode* taken = nullptr;  // a chain through `next`, once unlinked
    {
      std::lock_guard lock(lock_);
      TimerNode* node = head_.next;
      while (node != &head_ && node->due_ns <= now_ns) {
        TimerNode* following = node->next;
        auto& record = static_cast<TaskRecord&>(*node);
        if (claim(record)) {
          unlink(record);
          record.next = taken;
          taken = &record;
        }
        node = following;
      }
    }
    while (taken != nullptr) {
      TimerNode* following = taken->next;
      taken->next = nullptr;
      expire(static_cast<TaskRecord&>(*taken));
      taken = following;
    }
  }

 private:
  static void unlink(TimerNode& node) noexcept {
    node.prev->next = node.next;
    node.next->prev = node.prev;
    node.prev = node.next = nullptr;  // unlinked, as the timer wheel expects of a node it is given
  }

  SpinLock lock_;
  TimerNode head_;  // sentinel of a circular list
};

}  // namespace brisk::detail

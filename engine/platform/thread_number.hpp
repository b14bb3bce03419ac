// A small number per thread, handed out in the order threads first ask:
// how producers spread over shards and over the task table's free lists,
// so that a handful of producer threads each get their own. Threads that
// never submit never ask (workers use their own shard), but any thread
// that takes a task record does (the watchdog, a retrying worker).
#pragma once

#include <atomic>

namespace brisk::detail {

inline unsigned this_thread_number() noexcept {
  // relaxed: only distinctness matters, not ordering.
  static std::atomic<unsigned> threads_seen{0};
  thread_local const unsigned number = threads_seen.fetch_add(1, std::memory_order_relaxed);
  return number;
}

}  // namespace brisk::detail

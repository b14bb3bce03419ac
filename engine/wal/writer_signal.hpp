// WriterSignal: what producers, sync() and close() tell the log's writer
// thread, and the failure it tells them back: a few fields under one mutex,
// beside the condition variable the writer sleeps on. Producers take the
// mutex only when their stream goes from empty to not, or fills to the
// linger size (append_streams.hpp): not once per record.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "platform/cache_line.hpp"
#include "wal/status.hpp"

namespace brisk::detail::wal {

struct alignas(kCacheLine) WriterSignal {
  // A stream has records the writer has not taken; lingering_full: one of
  // them holds the linger size, so a lingering writer should stop waiting.
  void work_arrived(bool lingering_full) {
    {
      std::lock_guard lock(mutex);
      work = true;
      this->lingering_full = this->lingering_full || lingering_full;
    }
    wakeup.notify_one();
  }

  std::mutex mutex;
  std::condition_variable wakeup;  // the writer thread sleeps on it
  // Under mutex:
  bool work = false;
  bool lingering_full = false;
  std::uint64_t sync_requests = 0;  // Wal::sync() calls so far
  bool closing = false;
  Status failure;  // set once, by the writer thread or a failed close
};

}  // namespace brisk::detail::wal

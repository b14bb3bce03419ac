// Watermark: a count the log's writer thread publishes (records acked, or
// synced, in one stream) with a failed bit beside it, that any thread can
// read or block on. A ticket is done once its stream's watermark reaches its
// number: the waiters need no per-record state, and the writer wakes them
// with one store and one notify per batch.
#pragma once

#include <atomic>
#include <cstdint>

#include "platform/cache_line.hpp"

namespace brisk::detail::wal {

class Watermark {
 public:
  // acquire: a reader that sees the count also sees what the writer did
  // before publishing it (pairs with advance's release).
  std::uint64_t value() const noexcept { return word_.load(std::memory_order_acquire) & ~kFailed; }
  bool failed() const noexcept { return (word_.load(std::memory_order_acquire) & kFailed) != 0; }
  // Writer thread only; never lowers the count.
  void advance(std::uint64_t to) noexcept;
  // Any thread, once: every wait_for returns false from now on.
  void fail() noexcept;
  // Blocks until the count reaches at_least (true) or the mark fails (false).
  bool wait_for(std::uint64_t at_least) const noexcept;

 private:
  static constexpr std::uint64_t kFailed = std::uint64_t{1} << 63;
  std::atomic<std::uint64_t> word_{0};
};

// What the writer publishes per stream, on a line of its own apart from the
// stream's pending buffer: a waiter polling it does not pull the producers'
// line away.
struct alignas(kCacheLine) StreamProgress {
  Watermark acked;   // per the fsync policy: written, or written and synced
  Watermark synced;  // fdatasync'ed
};
static_assert(sizeof(StreamProgress) == kCacheLine, "a stream's progress: one line of its own");

}  // namespace brisk::detail::wal

#include "wal/watermark.hpp"

namespace brisk::detail::wal {

void Watermark::advance(std::uint64_t to) noexcept {
  // Only the writer thread advances; fail() may race with it, hence the CAS.
  // release: a waiter that sees the count may rely on everything the writer
  // did before (the write, the fdatasync).
  std::uint64_t w = word_.load(std::memory_order_relaxed);
  if ((w & ~kFailed) >= to) return;  // nothing new: no one to wake
  while ((w & ~kFailed) < to && !word_.compare_exchange_weak(w, (w & kFailed) | to, std::memory_order_release)) {
  }
  word_.notify_all();
}

void Watermark::fail() noexcept {
  // release: the failure status, set before this under the log's mutex, is
  // what a waiter that sees the bit goes on to read (it takes that mutex too).
  word_.fetch_or(kFailed, std::memory_order_release);
  word_.notify_all();
}

bool Watermark::wait_for(std::uint64_t at_least) const noexcept {
  for (;;) {
    // acquire: pairs with advance()/fail(), see value().
    const std::uint64_t w = word_.load(std::memory_order_acquire);
    if ((w & ~kFailed) >= at_least) return true;
    if ((w & kFailed) != 0) return false;
    word_.wait(w, std::memory_order_acquire);
  }
}

}  // namespace brisk::detail::wal

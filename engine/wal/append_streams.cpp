#include "wal/append_streams.hpp"

namespace brisk::detail::wal {

namespace {
// A writer that lingers (group_commit.hpp) stops waiting once a stream holds
// this much: enough for one write() to be worth its system call.
constexpr std::size_t kLingerBytes = 64u << 10;
}  // namespace

AppendStreams::AppendStreams(std::size_t max_pending_bytes, WriterSignal& signal)
    : signal_(signal),
      stream_limit_(std::max<std::size_t>(max_pending_bytes / kLogStreams, 1)),
      // Half a stream's limit at most: its producers block at the whole.
      linger_bytes_(std::min(kLingerBytes, stream_limit_ / 2)) {}

std::uint64_t AppendStreams::appended(std::uint32_t stream) const {
  const Stream& s = streams_[stream];
  std::lock_guard lock(s.lock);
  return s.appended;
}

void AppendStreams::take(std::span<std::string, kBuffers> into, std::array<std::uint64_t, kLogStreams>& taken) {
  // All locks at once: a consistent cut. A record appended after another
  // (in any stream) is never taken in an earlier batch, and the parts of a
  // multi-stream append (append_to_streams) are taken together.
  std::array<std::unique_lock<SpinLock>, kLogStreams> locks;
  for (std::uint32_t s = 0; s < kLogStreams; ++s) locks[s] = std::unique_lock(streams_[s].lock);
  std::array<bool, kLogStreams> had_waiters{};
  for (std::uint32_t s = 0; s < kLogStreams; ++s) {
    Stream& stream = streams_[s];
    had_waiters[s] = stream.pending_bytes() >= stream_limit_;  // producers wait only at the limit
    for (std::uint32_t lane = 0; lane < kLanes; ++lane) into[lane * kLogStreams + s].swap(stream.lanes[lane]);
    taken[s] = stream.appended;
  }
  for (auto& lock : locks) lock.unlock();
  for (std::uint32_t s = 0; s < kLogStreams; ++s) {
    if (had_waiters[s]) streams_[s].space_available.notify_all();
  }
}

void AppendStreams::release_waiting_producers() {
  for (Stream& s : streams_) {
    // Under the lock: a producer between its check and its wait would miss
    // a bare notify.
    { std::lock_guard lock(s.lock); }
    s.space_available.notify_all();
  }
}

}  // namespace brisk::detail::wal

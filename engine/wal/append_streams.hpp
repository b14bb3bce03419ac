// AppendStreams: the log's pending buffers, where producers frame records.
//
// Producers append typed records from any thread into one of kLogStreams
// streams (records.hpp: a task's records go to its id's stream, its
// completion to the completing thread's). An append frames the record under
// its stream's lock (a memcpy-sized encode, no allocation once the buffer
// has grown) and returns a WalTicket: the stream and the record's number in
// it. Threads on different streams share no lock and no cache line, which is
// what lets producers and workers on cores far apart append in parallel.
//
// The writer thread takes every stream's buffers at once (take(): all their
// locks held, a consistent cut, so a record that follows another in time is
// never taken in an earlier batch). Buffers are swapped, not copied: both
// sides keep their capacity.
//
// Bounded: a stream holds up to max_pending_bytes / kLogStreams; a producer
// that finds it full waits until the writer takes it (or the log refuses).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>

#include "platform/cache_line.hpp"
#include "platform/spin_lock.hpp"
#include "wal/log_format.hpp"
#include "wal/records.hpp"
#include "wal/wal_ticket.hpp"
#include "wal/writer_signal.hpp"

namespace brisk::detail::wal {

class AppendStreams {
 public:
  // A stream's records go to one of two lanes: completions, which the
  // writer lays out after every other record of a batch, and the rest.
  enum Lane : std::uint8_t { kMainLane = 0, kCompletionLane = 1, kLanes = 2 };
  // take()'s buffers: [lane * kLogStreams + stream], the order to write them in.
  static constexpr std::size_t kBuffers = kLanes * kLogStreams;

  AppendStreams(std::size_t max_pending_bytes, WriterSignal& signal);

  // The epoch of the tickets handed out (WalTicket); set before any append.
  void set_epoch(std::uint32_t epoch) noexcept { epoch_ = epoch; }
  std::uint32_t epoch() const noexcept { return epoch_; }

  // Frames one record of `type` into `stream`'s `lane`; encode_body(out,
  // nth) writes its payload (nth: the record's number in the stream). An
  // invalid ticket: refusing, or the payload is over kMaxPayloadSize.
  template <class EncodeBody>
  WalTicket append(std::uint32_t stream, Lane lane, RecordType type, const EncodeBody& encode_body);
  // Appends one record per stream in `streams` (a bit mask) to their main
  // lanes, holding their locks together so the writer takes all of them or
  // none; encode(out, s) writes stream s's payload. The ticket is the last
  // stream's: the writer publishes streams in order, so once it is acked,
  // all are.
  template <class EncodeBody>
  WalTicket append_to_streams(unsigned streams, RecordType type, const EncodeBody& encode);

  // Records appended to `stream` so far (the last ticket's nth()).
  std::uint64_t appended(std::uint32_t stream) const;
  // The writer's cut: swaps every stream's lanes into `into` and says how
  // many records each stream had appended, all under every lock at once.
  void take(std::span<std::string, kBuffers> into, std::array<std::uint64_t, kLogStreams>& taken);

  // From now on every append is refused. Called with signal.mutex held, so
  // the writer's next take (which it starts after reading signal.closing or
  // having failed) comes after it: see refusing().
  void refuse() noexcept { refusing_.store(true, std::memory_order_relaxed); }
  // Wakes producers waiting for space so that they see the refusal.
  void release_waiting_producers();

 private:
  // A pending buffer. Its own cache lines: the threads whose records it
  // takes and, once a batch, the writer are all that touch it.
  struct alignas(2 * kCacheLine) Stream {
    mutable SpinLock lock;  // mutable: appended() reads under it
    std::condition_variable_any space_available;  // rare: only at stream_limit_
    std::array<std::string, kLanes> lanes;  // framed records (sequence and CRC still zero)
    std::uint64_t appended = 0;  // records appended: the last ticket's nth()

    std::size_t pending_bytes() const noexcept { return lanes[kMainLane].size() + lanes[kCompletionLane].size(); }
  };
  static_assert(sizeof(Stream) % (2 * kCacheLine) == 0, "streams share no line (nor an adjacent-line prefetch pair)");

  bool refusing() const noexcept {
    // relaxed: read under a stream's lock, and set (by close() or a failure)
    // before signal.mutex is released to the writer, whose last take of the
    // streams locks each one after that. An append that locks the stream
    // after the take therefore sees it set (the locks order it), and one that
    // locked it before is in the take: none is left behind untaken.
    return refusing_.load(std::memory_order_relaxed);
  }
  // Crossing linger_bytes_ ends a lingering writer's wait early.
  bool fills_linger(std::size_t before, const Stream& s) const noexcept {
    return before < linger_bytes_ && s.pending_bytes() >= linger_bytes_;
  }

  WriterSignal& signal_;
  const std::size_t stream_limit_;  // max_pending_bytes per stream
  const std::size_t linger_bytes_;  // see group_commit.hpp, kLinger
  std::uint32_t epoch_ = 0;
  std::array<Stream, kLogStreams> streams_;
  // Set once, by close() or a failure; read by every append (under its
  // stream's lock, which is what orders it: see refusing()).
  alignas(kCacheLine) std::atomic<bool> refusing_{false};
};

template <class EncodeBody>
WalTicket AppendStreams::append(std::uint32_t stream, Lane lane, RecordType type, const EncodeBody& encode_body) {
  Stream& s = streams_[stream];
  std::unique_lock lock(s.lock);
  s.space_available.wait(lock, [&] { return s.pending_bytes() < stream_limit_ || refusing(); });
  if (refusing()) return {};
  const std::size_t before = s.pending_bytes();
  std::string& out = s.lanes[lane];
  const std::size_t start = begin_record(out, type, 0);
  encode_body(out, s.appended + 1);
  if (out.size() - start - kRecordHeaderSize > kMaxPayloadSize) {
    out.resize(start);
    return {};
  }
  end_record(out, start);
  const WalTicket ticket = WalTicket::of(epoch_, stream, ++s.appended);
  const bool lingering_full = fills_linger(before, s);
  lock.unlock();
  // The writer sleeps only when no stream has records (wake it on a
  // stream's first) or while it lingers for linger_bytes_.
  if (before == 0 || lingering_full) signal_.work_arrived(lingering_full);
  return ticket;
}

template <class EncodeBody>
WalTicket AppendStreams::append_to_streams(unsigned streams, RecordType type, const EncodeBody& encode) {
  // No wait for space here: the writer takes all stream locks at once, so
  // waiting on one stream while holding another could stall it for good.
  // What these records add is bounded by the tasks already admitted.
  std::array<std::unique_lock<SpinLock>, kLogStreams> locks;
  for (std::uint32_t s = 0; s < kLogStreams; ++s) {
    if ((streams >> s & 1) != 0) locks[s] = std::unique_lock(streams_[s].lock);
  }
  if (refusing()) return {};
  std::array<std::size_t, kLogStreams> before{};
  std::array<std::size_t, kLogStreams> starts{};
  for (std::uint32_t s = 0; s < kLogStreams; ++s) {
    if ((streams >> s & 1) == 0) continue;
    before[s] = streams_[s].pending_bytes();
    std::string& out = streams_[s].lanes[kMainLane];
    starts[s] = begin_record(out, type, 0);
    encode(out, s);
    if (out.size() - starts[s] - kRecordHeaderSize > kMaxPayloadSize) {
      for (std::uint32_t undo = 0; undo <= s; ++undo) {
        if ((streams >> undo & 1) != 0) streams_[undo].lanes[kMainLane].resize(starts[undo]);
      }
      return {};
    }
    end_record(out, starts[s]);
  }
  WalTicket last;
  bool first_in_a_stream = false;
  bool lingering_full = false;
  for (std::uint32_t s = 0; s < kLogStreams; ++s) {
    if ((streams >> s & 1) == 0) continue;
    last = WalTicket::of(epoch_, s, ++streams_[s].appended);
    first_in_a_stream = first_in_a_stream || before[s] == 0;
    lingering_full = lingering_full || fills_linger(before[s], streams_[s]);
    locks[s].unlock();
  }
  if (first_in_a_stream || lingering_full) signal_.work_arrived(lingering_full);
  return last;
}

}  // namespace brisk::detail::wal

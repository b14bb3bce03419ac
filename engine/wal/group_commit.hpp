// GroupCommit: the log's writer thread.
//
// It takes every stream's pending records at once (AppendStreams::take),
// lays them out (every stream's other records, then every stream's
// completions: a completion follows its task's submit), hands the whole
// batch to the SegmentWriter as one write() and, per policy, one
// fdatasync(); while it waits on the disk, producers fill the streams again,
// so batches grow with load. After each batch it publishes, per stream, how
// many records are acked and synced (StreamProgress), which is all a waiter
// needs: tickets are plain integers, nothing is allocated per record.
//
// What "acked" means is the fsync policy:
//   always    acked after the batch's fdatasync. Loses nothing acked, not even
//             on power loss.
//   interval  acked once written to the OS; fdatasync every fsync_interval.
//             A process crash loses nothing acked; power loss or a kernel
//             crash loses up to one interval (plus one sync) of acked records.
//   never     acked once written to the OS; synced only when a segment is
//             closed, on Wal::sync() and on close.
//
// Failure: an error from write or fdatasync puts the log in a failed state
// for good: pending tickets and every later append fail. An fsync is never
// retried: after a failed fdatasync the kernel may have dropped the dirty
// pages, so a later success would prove nothing.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "brisk/durability.hpp"
#include "trace/trace_switch.hpp"
#include "wal/append_streams.hpp"
#include "wal/segment_writer.hpp"
#include "wal/wal_observations.hpp"
#include "wal/watermark.hpp"
#include "wal/writer_signal.hpp"

namespace brisk::detail::wal {

struct GroupCommitOptions {
  FsyncPolicy fsync = FsyncPolicy::always;
  std::chrono::milliseconds fsync_interval{1000};
  std::function<void(const Status&)> on_failure;  // once, on the writer thread
  // The engine's trace switch (nullptr: never traced). While it is on, the
  // thread records each batch's write and each fdatasync as a slice on the
  // trace's log writer track (trace/side_tracks.hpp).
  trace::TraceSwitch* trace = nullptr;
};

class GroupCommit {
 public:
  // Batch sizes go into observations (the segment writer times the syncs).
  GroupCommit(GroupCommitOptions options, AppendStreams& streams, WriterSignal& signal,
              std::array<StreamProgress, kLogStreams>& progress, SegmentWriter& segments,
              WalObservations& observations);
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Starts the thread; the segment writer is started already.
  void start();
  // After signal.closing was set: the thread writes and syncs what was
  // appended, and returns.
  void join();

  // For WalStats (relaxed counters, read by any thread).
  std::uint64_t records() const noexcept { return records_.load(std::memory_order_relaxed); }
  std::uint64_t batches() const noexcept { return batches_.load(std::memory_order_relaxed); }
  std::uint64_t bytes() const noexcept { return bytes_.load(std::memory_order_relaxed); }
  std::uint64_t largest_batch() const noexcept { return largest_batch_.load(std::memory_order_relaxed); }
  std::uint64_t syncs() const noexcept { return syncs_.load(std::memory_order_relaxed); }
  std::uint32_t segment() const noexcept { return segment_.load(std::memory_order_relaxed); }

 private:
  void run();
  // The log writer's trace ring while tracing is on, else nullptr: read once
  // per batch (off: a load and a predictable branch, no clock read).
  trace::TraceBuffer* tracing() const noexcept;
  Status write_batch(trace::TraceBuffer* tracing);  // what take() gathered
  void publish_progress();
  void fail(const Status& cause);

  const GroupCommitOptions options_;
  AppendStreams& streams_;
  WriterSignal& signal_;
  std::array<StreamProgress, kLogStreams>& progress_;
  SegmentWriter& segments_;
  WalObservations& observations_;
  std::thread thread_;

  // The thread's own.
  std::array<std::string, AppendStreams::kBuffers> batch_;  // in layout order
  std::array<std::uint64_t, kLogStreams> taken_{};    // records taken from each stream so far
  std::array<std::uint64_t, kLogStreams> written_{};  // of which written to the OS
  std::array<std::uint64_t, kLogStreams> synced_{};   // of which fdatasync'ed
  std::uint64_t syncs_done_ = 0;  // sync requests served
  std::chrono::steady_clock::time_point last_sync_;

  // Statistics: relaxed, each an independent total for reporting. Published
  // before the watermarks (whose release orders them for a waiter).
  std::atomic<std::uint64_t> records_{0};
  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> largest_batch_{0};
  std::atomic<std::uint64_t> syncs_{0};
  std::atomic<std::uint32_t> segment_{0};
};

}  // namespace brisk::detail::wal

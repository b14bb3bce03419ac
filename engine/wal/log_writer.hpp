// Wal: the write-ahead log with group commit, put together from its parts:
//   AppendStreams (append_streams.hpp)  producers frame records into
//                                       per-stream pending buffers;
//   GroupCommit (group_commit.hpp)      the writer thread: one write and, per
//                                       policy, one fdatasync a batch, then
//                                       the acknowledgement watermarks
//                                       (watermark.hpp);
//   SegmentWriter (segment_writer.hpp)  numbering, checksums, sync marks and
//                                       segment rotation, single-threaded;
//   Compactor (compactor.hpp)           folds closed segments into checkpoints.
// This facade opens (recovering what is there), hands out and checks
// tickets, syncs, compacts and closes. group_commit.hpp says what each
// FsyncPolicy acknowledges and loses; sync() makes everything appended so
// far durable under every policy.
//
// Failure: an error from write or fdatasync (ENOSPC, EIO, ...) puts the log in
// a failed state for good: pending tickets and every later append fail, and
// status() says why. The way out is a restart, whose recovery reads what
// really is on disk.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "brisk/durability.hpp"
#include "wal/append_streams.hpp"
#include "wal/checkpoint.hpp"
#include "wal/compactor.hpp"
#include "wal/group_commit.hpp"
#include "wal/log_reader.hpp"
#include "wal/records.hpp"
#include "wal/recovery.hpp"
#include "wal/segment_writer.hpp"
#include "wal/status.hpp"
#include "wal/wal_env.hpp"
#include "wal/wal_ticket.hpp"
#include "wal/watermark.hpp"
#include "wal/wal_observations.hpp"
#include "wal/writer_signal.hpp"

namespace brisk::detail::wal {

// The public policy (brisk/durability.hpp), one definition for the engine
// and the log.
using brisk::FsyncPolicy;

struct WalOptions {
  std::string dir;
  WalEnv* env = nullptr;  // nullptr: the real file system
  FsyncPolicy fsync = FsyncPolicy::always;
  std::chrono::milliseconds fsync_interval{1000};
  // A segment is closed once the next record would take it past this size
  // (a record larger than a segment gets one to itself).
  std::uint64_t segment_bytes = 64ull << 20;
  // Producers wait while this many bytes are queued and not yet written
  // (a stream holds up to 1/kLogStreams of it).
  std::size_t max_pending_bytes = 16u << 20;
  // Fold closed segments into a checkpoint every this many segments (0: only
  // when compact() is called).
  std::uint32_t checkpoint_every_segments = 4;
  RecoveryMode recovery_mode = RecoveryMode::tolerate_corrupted_tail_records;
  // Idempotency keys older than this are forgotten by recovery and
  // checkpoints (0: kept for ever), measured on `clock_ns`, which must be the
  // clock that stamped submit_ns (default: CLOCK_REALTIME, which survives a
  // restart).
  std::int64_t key_retention_ns = 0;
  std::function<std::int64_t()> clock_ns;
  // Called once, on the writer thread, when the log fails.
  std::function<void(const Status&)> on_failure;
  // The engine's trace switch: batches and fsyncs on the trace (GroupCommitOptions).
  trace::TraceSwitch* trace = nullptr;
};

struct WalStats {
  std::uint64_t records = 0;
  std::uint64_t batches = 0;  // write() calls made for batches
  std::uint64_t bytes = 0;
  std::uint64_t syncs = 0;
  std::uint64_t largest_batch_bytes = 0;
  std::uint32_t segment = 0;  // number of the open segment
  std::uint64_t checkpoints = 0;
  Status last_compaction;     // outcome of the last background compaction
};

class Wal {
 public:
  // Recovers the log in options.dir (creating it if needed) into
  // `recovered`, folds everything read into a fresh checkpoint (so damage
  // the recovery mode accepted is never met again; damaged files are kept as
  // *.damaged for inspection) and starts a new segment. A non-OK status
  // means the recovery mode refused the log; recovered->report says where.
  static Status open(WalOptions options, std::unique_ptr<Wal>* wal, RecoveredState* recovered);
  ~Wal();  // close()
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Records about one task go to stream_of(task id).
  WalTicket append(const TaskImageRef& task);
  // Appends a new task to `stream` (any number; callers spread producers
  // over streams) and gives it a fresh id in *id: unique across restarts,
  // above every id the log holds, and in `stream` (stream_of(*id) ==
  // stream % kLogStreams). The id comes from the stream's own count, under
  // its lock: no counter shared by producers.
  WalTicket append_numbered(TaskImageRef task, std::uint32_t stream, TaskId* id);
  // A completion record lists tasks of any streams and goes to the calling
  // thread's stream (a worker's completions stay on its core). It is still
  // written after the submits of its tasks: a task completes after it was
  // appended, so the consistent cut takes its submit in the same batch or an
  // earlier one, and the writer lays out a batch's completions last.
  WalTicket append(const TaskCompletedRef& record);
  WalTicket append(const TaskCompleted& record) { return append(TaskCompletedRef{record.ids}); }
  WalTicket append(const TaskRetryScheduled& record);
  WalTicket append(const TaskDeadLettered& record);
  WalTicket append(const TaskCancelled& record);
  WalTicket append(const DlqReplayed& record);
  WalTicket append(const DlqDropped& record);
  // A purge of all streams is one record per stream; the ticket covers all.
  WalTicket append(const DlqPurged& record);

  // Done: acked (true) or the log failed first. False for a ticket this
  // open of the log did not issue.
  bool ready(WalTicket ticket) const noexcept;
  // Blocks until the ticket is acked (OK) or the log fails (its error).
  // A ticket this open did not issue (an earlier open's, or made up) is
  // answered at once with an invalid-argument status.
  Status wait(WalTicket ticket) const;
  // True when this open of the log issued the ticket.
  bool issued(WalTicket ticket) const noexcept;
  // Appends and waits: the blocking variant.
  template <class Record>
  Status append_and_wait(const Record& record) {
    const WalTicket t = append(record);
    return t.valid() ? wait(t) : refusal();
  }

  // Records of `stream` acked / made durable so far (tickets' nth()).
  std::uint64_t acked_in(std::uint32_t stream) const noexcept { return progress_[stream].acked.value(); }
  std::uint64_t synced_in(std::uint32_t stream) const noexcept { return progress_[stream].synced.value(); }

  // Makes everything appended so far durable, whatever the policy.
  Status sync();
  // Folds the closed segments into a checkpoint now (the writer keeps going).
  Status compact(CompactionResult* result = nullptr);

  bool failed() const noexcept { return progress_[0].acked.failed(); }
  Status status() const;
  WalStats stats() const;
  // Batch sizes and fsync latencies (histograms; the writer records them).
  const WalObservations& observations() const noexcept { return observations_; }
  // Drains and syncs what was appended, stops the threads. Idempotent.
  Status close();

 private:
  Wal(WalOptions options, WalEnv& env);
  Status refusal() const;

  const WalOptions options_;
  WalEnv& env_;
  TaskId id_base_ = 0;  // append_numbered's ids start here (set at open)
  WalObservations observations_;
  mutable WriterSignal signal_;  // mutable: status() and refusal() lock it
  AppendStreams streams_;
  std::array<StreamProgress, kLogStreams> progress_;
  Compactor compactor_;
  SegmentWriter segments_;  // the writer thread's, once started
  GroupCommit writer_;
  bool closed_ = false;  // under signal_.mutex
};

}  // namespace brisk::detail::wal

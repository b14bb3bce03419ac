// Wal: the write-ahead log with group commit.
//
// Producers append typed records from any thread into one of kLogStreams
// pending buffers (records.hpp: a task's records go to its id's stream, its
// completion to the completing thread's). An append frames the record under
// its stream's lock (a memcpy-sized encode, no allocation once the buffer
// has grown) and returns a WalTicket: the stream and the record's number in
// it. Threads on different streams share no lock and no cache line, which is
// what lets producers and workers on cores far apart append in parallel.
//
// One writer thread takes every stream's buffers at once (holding all their
// locks: a consistent cut, so a record that follows another in time is
// never written in an earlier batch), numbers the records (LSNs, in the
// order it lays the buffers out: every stream's other records, then every
// stream's completions), checksums them, and hands the whole batch to one
// write() and, per policy, one fdatasync(); while it waits on the disk,
// producers fill the streams again, so batches grow with load (group
// commit).
//
// Acknowledgement: after each batch the writer publishes, per stream, how
// many records are acked; a ticket is done when its stream's count reaches
// it. wait() blocks, ready() polls: tickets are plain integers, nothing is
// allocated per record. What "acked" means is the fsync policy:
//   always    acked after the batch's fdatasync. Loses nothing acked, not even
//             on power loss.
//   interval  acked once written to the OS; fdatasync every fsync_interval.
//             A process crash loses nothing acked; power loss or a kernel
//             crash loses up to one interval (plus one sync) of acked records.
//   never     acked once written to the OS; synced only when a segment is
//             closed, on sync() and on close(). A process crash loses nothing
//             acked; power loss loses whatever the kernel had not written back.
// sync() makes everything appended so far durable under every policy.
//
// Failure: an error from write or fdatasync (ENOSPC, EIO, ...) puts the log in
// a failed state for good: pending tickets and every later append fail, and
// status() says why. An fsync is never retried: after a failed fdatasync the
// kernel may have dropped the dirty pages, so a later success would prove
// nothing. The way out is a restart, whose recovery reads what really is on
// disk.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "platform/cache_line.hpp"
#include "platform/spin_lock.hpp"
#include "wal/checkpoint.hpp"
#include "wal/log_reader.hpp"
#include "wal/records.hpp"
#include "wal/recovery.hpp"
#include "wal/status.hpp"
#include "wal/wal_env.hpp"
#include "wal/wal_observations.hpp"

namespace brisk::detail::wal {

enum class FsyncPolicy : std::uint8_t { always, interval, never };
std::string_view to_string(FsyncPolicy policy) noexcept;

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
};

// An appended record's place in its stream, and the log that issued it: the
// n-th record of stream s, appended by the log opened as epoch e, is
// value e << kEpochShift | (n * kLogStreams + s), one integer a caller can
// keep anywhere. The epoch is the number of the segment that open started
// (kEpochBits of it), so a ticket of an earlier open of the same directory
// (an easy mistake after a restart) is told apart from this open's: waiting
// on it answers at once instead of waiting for a record that will never
// come. 0: the append was refused (the log has failed or is closed, see
// Wal::status(), or the record is larger than kMaxPayloadSize).
struct WalTicket {
  static constexpr unsigned kEpochBits = 12;
  static constexpr unsigned kEpochShift = 64 - kEpochBits;
  // The rest holds n * kLogStreams + s: 2^49 records a stream in one open,
  // six years at 3M records/s.

  std::uint64_t value = 0;

  // epoch < 2^kEpochBits
  static WalTicket of(std::uint32_t epoch, std::uint32_t stream, std::uint64_t nth) noexcept {
    return {static_cast<std::uint64_t>(epoch) << kEpochShift | (nth * kLogStreams + stream)};
  }
  std::uint32_t epoch() const noexcept { return static_cast<std::uint32_t>(value >> kEpochShift); }
  std::uint32_t stream() const noexcept { return static_cast<std::uint32_t>(value % kLogStreams); }
  std::uint64_t nth() const noexcept { return (value & ((std::uint64_t{1} << kEpochShift) - 1)) / kLogStreams; }
  // The ticket of the record `back` records before this one in its stream.
  WalTicket earlier(std::uint64_t back) const noexcept { return {value - back * kLogStreams}; }
  bool valid() const noexcept { return value != 0; }
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
  // A count published by the writer thread, with a failed bit; waitable.
  class Watermark {
   public:
    std::uint64_t value() const noexcept { return word_.load(std::memory_order_acquire) & ~kFailed; }
    bool failed() const noexcept { return (word_.load(std::memory_order_acquire) & kFailed) != 0; }
    void advance(std::uint64_t to) noexcept;
    void fail() noexcept;
    bool wait_for(std::uint64_t at_least) const noexcept;  // false: failed first

   private:
    static constexpr std::uint64_t kFailed = std::uint64_t{1} << 63;
    std::atomic<std::uint64_t> word_{0};
  };

  // A stream's records go to one of two lanes: completions, which the
  // writer lays out after every other record of a batch, and the rest.
  enum Lane : std::uint8_t { kMainLane = 0, kCompletionLane = 1, kLanes = 2 };

  // A pending buffer. Its own cache lines: the threads whose records it
  // takes and, once a batch, the writer are all that touch it.
  struct alignas(2 * kCacheLine) Stream {
    mutable SpinLock lock;  // mutable: issued() reads `appended` under it
    std::condition_variable_any space_available;  // rare: only at stream_limit_
    std::array<std::string, kLanes> lanes;  // framed records (sequence and CRC still zero)
    std::uint64_t appended = 0;  // records appended: the last ticket's nth()

    std::size_t pending_bytes() const noexcept { return lanes[kMainLane].size() + lanes[kCompletionLane].size(); }
  };
  // What the writer publishes per stream, apart from the stream's lock so
  // that a waiter polling it does not pull the producers' line away.
  struct alignas(kCacheLine) Progress {
    Watermark acked;
    Watermark synced;
  };
  static_assert(sizeof(Stream) % (2 * kCacheLine) == 0, "streams share no line (nor an adjacent-line prefetch pair)");
  static_assert(sizeof(Progress) == kCacheLine, "a stream's progress: one line of its own");

  Wal(WalOptions options, WalEnv& env);
  bool refusing() const noexcept;
  // Frames one record of `type` into `stream`'s `lane`; encode_body(out,
  // nth) writes its payload (nth: the record's number in the stream).
  template <class EncodeBody>
  WalTicket append_framed(std::uint32_t stream, Lane lane, RecordType type, const EncodeBody& encode_body);
  template <class Record>
  WalTicket append_record(TaskId id, const Record& record);
  // Appends one record per stream in `streams` (a bit mask), holding their
  // locks together so the writer takes all of them or none; encode(out, s)
  // writes stream s's payload. The ticket is the last stream's: the writer
  // publishes streams in order, so once it is acked, all are.
  template <class EncodeBody>
  WalTicket append_to_streams(unsigned streams, RecordType type, const EncodeBody& encode);
  Status refusal() const;
  void wake_writer(bool lingering_batch_full);
  void writer_loop();
  // Takes every stream's pending records into batch_ (all locks held).
  void take_streams();
  Status write_batch();
  void add_to_chunk(std::string_view piece);
  Status write_chunk();
  Status open_segment(std::uint32_t number, std::uint64_t first_sequence);
  Status rotate(std::uint64_t first_sequence);
  void publish_progress();
  void fail(const Status& cause);
  // Wakes producers waiting for space so they see refusing().
  void release_waiting_producers();
  void compactor_loop();
  KeyRetention retention() const;

  const WalOptions options_;
  WalEnv& env_;
  const std::size_t stream_limit_;  // max_pending_bytes per stream
  const std::size_t linger_bytes_;  // the writer lingers for this much in a stream (see kLingerBytes)
  TaskId id_base_ = 0;              // append_numbered's ids start here (set at open)
  std::uint32_t epoch_ = 0;         // tickets' epoch: the segment this open started, kEpochBits of it

  std::array<Stream, kLogStreams> streams_;
  std::array<Progress, kLogStreams> progress_;
  // Set once, by close() or a failure; read by every append (under its
  // stream's lock, which is what orders it: see refusing()).
  alignas(kCacheLine) std::atomic<bool> refusing_{false};

  // The writer's wake-ups and requests, under mutex_. Producers take it
  // only when their stream goes from empty to not, or passes linger_bytes_.
  alignas(kCacheLine) mutable std::mutex mutex_;
  std::condition_variable writer_wakeup_;
  bool work_ = false;             // a stream has records the writer has not taken
  bool lingering_full_ = false;   // a stream has linger_bytes_ pending
  std::uint64_t sync_requests_ = 0;  // sync() calls so far
  bool closing_ = false;
  Status failure_;

  // The writer thread's own.
  // Each stream's lanes, swapped out of it, in the order they are laid out:
  // [lane * kLogStreams + stream].
  std::array<std::string, kLanes * kLogStreams> batch_;
  std::array<std::uint64_t, kLogStreams> taken_{};  // records taken from each stream so far
  std::array<std::uint64_t, kLogStreams> written_{};  // of which written to the OS
  std::array<std::uint64_t, kLogStreams> synced_{};   // of which fdatasync'ed
  // The next write: a sync mark (when due), then at most one piece per
  // stream and lane.
  std::string mark_;
  std::array<std::string_view, kLanes * kLogStreams + 1> chunk_;  // [0] is mark_
  std::size_t chunk_pieces_ = 1;
  std::size_t chunk_bytes_ = 0;  // in the pieces after the mark
  std::unique_ptr<WalFile> file_;
  std::uint32_t segment_number_ = 0;
  std::uint64_t segment_size_ = 0;    // bytes written to the open segment
  std::uint64_t segment_synced_ = 0;  // of which fdatasync'ed
  std::uint64_t segment_marked_ = 0;  // what the last sync mark in it said
  std::uint64_t next_lsn_ = 1;
  std::uint64_t written_lsn_ = 0;     // the last record written to the OS
  std::uint64_t synced_lsn_ = 0;      // the last record known durable
  std::uint64_t syncs_done_ = 0;      // sync() requests served
  std::chrono::steady_clock::time_point last_sync_;

  std::atomic<std::uint64_t> stat_records_{0};
  std::atomic<std::uint64_t> stat_batches_{0};
  std::atomic<std::uint64_t> stat_bytes_{0};
  std::atomic<std::uint64_t> stat_syncs_{0};
  std::atomic<std::uint64_t> stat_largest_batch_{0};
  std::atomic<std::uint32_t> stat_segment_{0};
  WalObservations observations_;

  // Compaction: requested by the writer on rotation, run by compactor_.
  mutable std::mutex compaction_mutex_;  // one compaction at a time
  std::mutex compactor_mutex_;
  std::condition_variable compactor_wakeup_;
  std::uint32_t compact_through_ = 0;  // under compactor_mutex_
  std::uint32_t compacted_through_ = 0;
  bool compactor_stop_ = false;
  std::uint64_t checkpoints_ = 0;  // under compaction_mutex_
  Status last_compaction_;         // under compaction_mutex_

  bool closed_ = false;  // under mutex_
  std::thread writer_;
  std::thread compactor_;
};

}  // namespace brisk::detail::wal

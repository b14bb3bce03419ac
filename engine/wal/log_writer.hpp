// Wal: the write-ahead log with group commit.
//
// Producers append typed records from any thread. Each append frames the
// record into a shared pending buffer under a short mutex (a sequence number
// and a memcpy-sized encode, no allocation once the buffer has grown) and
// returns a WalTicket holding the record's LSN. One writer thread swaps the
// pending buffer out, checksums it, and hands the whole batch to one write()
// and, per policy, one fdatasync(); while it waits on the disk, producers
// fill the other buffer, so batches grow with load (group commit).
//
// Acknowledgement: the writer publishes acked_lsn(); a ticket is done when
// acked_lsn() >= ticket.lsn. wait() blocks, ready() polls, on_ack is called
// after each batch: tickets are plain integers, nothing is allocated per
// record. What "acked" means is the fsync policy:
//   always    acked after the batch's fdatasync. Loses nothing acked, not even
//             on power loss.
//   interval  acked once written to the OS; fdatasync every fsync_interval.
//             A process crash loses nothing acked; power loss or a kernel
//             crash loses up to one interval (plus one sync) of acked records.
//   never     acked once written to the OS; synced only when a segment is
//             closed, on sync() and on close(). A process crash loses nothing
//             acked; power loss loses whatever the kernel had not written back.
// synced_lsn() is the durable point under every policy; sync() forces it.
//
// Failure: an error from write or fdatasync (ENOSPC, EIO, ...) puts the log in
// a failed state for good: pending tickets and every later append fail, and
// status() says why. An fsync is never retried: after a failed fdatasync the
// kernel may have dropped the dirty pages, so a later success would prove
// nothing. The way out is a restart, whose recovery reads what really is on
// disk.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "wal/checkpoint.hpp"
#include "wal/log_reader.hpp"
#include "wal/records.hpp"
#include "wal/recovery.hpp"
#include "wal/status.hpp"
#include "wal/wal_env.hpp"

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
  // Producers wait while this many bytes are queued and not yet written.
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
  // Called on the writer thread after each batch, with the new acked_lsn().
  std::function<void(std::uint64_t acked_lsn)> on_ack;
  // Called once, on the writer thread, when the log fails.
  std::function<void(const Status&)> on_failure;
};

// An appended record's place in the log. lsn 0: the append was refused (the
// log has failed or is closed, see Wal::status(), or the record is larger
// than kMaxPayloadSize).
struct WalTicket {
  std::uint64_t lsn = 0;
  bool valid() const noexcept { return lsn != 0; }
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

  WalTicket append(const TaskImageRef& task);
  // Appends a task whose id is its record's LSN + id_offset, set under the
  // log's lock: the caller needs no shared id counter of its own (whose
  // cache line every producer would take in turn, once per task). The id is
  // ticket.lsn + id_offset.
  WalTicket append_numbered(TaskImageRef task, std::uint64_t id_offset);
  WalTicket append(const TaskCompletedRef& record);
  WalTicket append(const TaskCompleted& record) { return append(TaskCompletedRef{record.ids}); }
  WalTicket append(const TaskRetryScheduled& record);
  WalTicket append(const TaskDeadLettered& record);
  WalTicket append(const TaskCancelled& record);
  WalTicket append(const DlqReplayed& record);
  WalTicket append(const DlqPurged& record);

  // Done: acked (true) or the log failed first.
  bool ready(WalTicket ticket) const noexcept;
  // Blocks until the ticket is acked (OK) or the log fails (its error).
  Status wait(WalTicket ticket) const;
  // Appends and waits: the blocking variant.
  template <class Record>
  Status append_and_wait(const Record& record) {
    const WalTicket t = append(record);
    return t.valid() ? wait(t) : refusal();
  }

  std::uint64_t acked_lsn() const noexcept { return acked_.value(); }
  std::uint64_t written_lsn() const noexcept { return written_.value(); }
  std::uint64_t synced_lsn() const noexcept { return synced_.value(); }

  // Makes everything appended so far durable, whatever the policy.
  Status sync();
  // Folds the closed segments into a checkpoint now (the writer keeps going).
  Status compact(CompactionResult* result = nullptr);

  bool failed() const noexcept { return acked_.failed(); }
  Status status() const;
  WalStats stats() const;
  // Drains and syncs what was appended, stops the threads. Idempotent.
  Status close();

 private:
  // An LSN published by the writer thread, with a failed bit; waitable.
  class Watermark {
   public:
    std::uint64_t value() const noexcept { return word_.load(std::memory_order_acquire) & ~kFailed; }
    bool failed() const noexcept { return (word_.load(std::memory_order_acquire) & kFailed) != 0; }
    void advance(std::uint64_t lsn) noexcept;
    void fail() noexcept;
    bool wait_for(std::uint64_t lsn) const noexcept;  // false: failed first

   private:
    static constexpr std::uint64_t kFailed = std::uint64_t{1} << 63;
    std::atomic<std::uint64_t> word_{0};
  };

  Wal(WalOptions options, WalEnv& env);
  template <class Record>
  WalTicket append_record(const Record& record);
  // Frames one record of `type` whose body encode_body(out, lsn) writes.
  template <class EncodeBody>
  WalTicket append_framed(RecordType type, const EncodeBody& encode_body);
  Status refusal() const;
  void writer_loop();
  Status write_batch();
  Status write_chunk(std::string_view chunk);
  Status open_segment(std::uint32_t number, std::uint64_t first_sequence);
  Status rotate(std::uint64_t first_sequence);
  void fail(const Status& cause);
  void compactor_loop();
  KeyRetention retention() const;

  const WalOptions options_;
  WalEnv& env_;
  const std::size_t linger_bytes_;  // the writer lingers for this much (see kLingerBytes)

  // Shared with producers, under mutex_.
  mutable std::mutex mutex_;
  std::condition_variable writer_wakeup_;
  std::condition_variable space_available_;
  std::string pending_;          // framed records (CRC still zero) waiting for the writer
  std::uint64_t next_lsn_ = 1;
  std::uint64_t sync_requested_ = 0;  // sync() callers wait for this LSN
  bool closing_ = false;
  Status failure_;

  // The writer thread's own.
  std::string batch_;
  std::string mark_;             // the sync mark record leading the next write
  std::unique_ptr<WalFile> file_;
  std::uint32_t segment_number_ = 0;
  std::uint64_t segment_size_ = 0;    // bytes written to the open segment
  std::uint64_t segment_synced_ = 0;  // of which fdatasync'ed
  std::uint64_t segment_marked_ = 0;  // what the last sync mark in it said
  std::uint64_t written_lsn_ = 0;
  std::uint64_t synced_lsn_ = 0;
  std::chrono::steady_clock::time_point last_sync_;

  Watermark acked_;
  Watermark written_;
  Watermark synced_;

  std::atomic<std::uint64_t> stat_records_{0};
  std::atomic<std::uint64_t> stat_batches_{0};
  std::atomic<std::uint64_t> stat_bytes_{0};
  std::atomic<std::uint64_t> stat_syncs_{0};
  std::atomic<std::uint64_t> stat_largest_batch_{0};
  std::atomic<std::uint32_t> stat_segment_{0};

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

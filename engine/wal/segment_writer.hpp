// SegmentWriter: the log's bytes on disk, single-threaded (the writer
// thread's; LevelDB's log::Writer plus its segment switching).
//
// It is handed records already framed by their producers (log_format.hpp:
// header with sequence and CRC still zero, then payload), in the order they
// must appear, and
//  - numbers them (LSNs, one after the other, whatever stream they came
//    from) and checksums them;
//  - writes them with as few write() calls as it can: the buffers' bytes go
//    out as one gathered append per segment touched, no copy;
//  - leads a write with a sync mark whenever more of the segment became
//    durable since the last mark, so recovery can tell a torn tail (bytes
//    past the last mark) from damage to synced data;
//  - closes a segment (fdatasync first, whatever the policy: a segment with
//    a successor is complete on disk) when the next record would take it
//    past segment_bytes, and starts the next; a record never spans two
//    segments, and one larger than a segment gets one to itself.
// When to fdatasync is the caller's policy (group_commit.hpp): sync().
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/latency_histogram.hpp"
#include "wal/status.hpp"
#include "wal/wal_env.hpp"

namespace brisk::detail::wal {

class SegmentWriter {
 public:
  // Writes into `dir` through `env`, segments of about segment_bytes;
  // one write() gathers at most max_pieces buffers. Each fdatasync's time
  // goes into fsync_ns. on_closed(number), if set, is called as soon as a
  // segment is closed (mid-write: a compaction can start while the rest of
  // a large batch is written).
  SegmentWriter(WalEnv& env, std::string dir, std::uint64_t segment_bytes, std::size_t max_pieces,
                metrics::LatencyHistogram& fsync_ns, std::function<void(std::uint32_t)> on_closed = {});
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Creates segment `number` (its name made durable before any record is
  // written to it) whose first record will be `next_sequence`; everything
  // before that is taken as durable (it came from recovery).
  Status start(std::uint32_t number, std::uint64_t next_sequence);
  // Numbers, checksums and writes every framed record in `buffers`, in
  // order, rotating segments as needed. At most max_pieces buffers. On error
  // an unknown prefix was written: the caller must stop using the log.
  Status write(std::span<std::string> buffers);
  // fdatasync: everything written so far is durable.
  Status sync();
  Status close();

  std::uint64_t written_lsn() const noexcept { return next_lsn_ - 1; }  // the last record written
  std::uint64_t synced_lsn() const noexcept { return synced_lsn_; }     // the last known durable
  std::uint32_t segment() const noexcept { return number_; }           // the open segment's number
  std::uint64_t syncs() const noexcept { return syncs_; }               // fdatasyncs so far

 private:
  void add_piece(std::string_view piece);
  Status write_pieces();  // the pending pieces, behind a sync mark when due
  Status rotate();        // closes the open segment, starts the next

  WalEnv& env_;
  const std::string dir_;
  const std::uint64_t segment_bytes_;
  metrics::LatencyHistogram& fsync_ns_;
  const std::function<void(std::uint32_t)> on_closed_;
  std::unique_ptr<WalFile> file_;
  std::uint32_t number_ = 0;
  std::uint64_t size_ = 0;    // bytes in the open segment
  std::uint64_t synced_ = 0;  // of which fdatasync'ed
  std::uint64_t marked_ = 0;  // what the last sync mark in it said
  std::uint64_t next_lsn_ = 1;
  std::uint64_t synced_lsn_ = 0;
  std::uint64_t syncs_ = 0;
  // The next write: the sync mark (pieces_[0], possibly empty), then pieces.
  std::string mark_;
  std::vector<std::string_view> pieces_;  // sized once: max_pieces + 1
  std::size_t piece_count_ = 1;
  std::size_t piece_bytes_ = 0;  // in the pieces after the mark
};

}  // namespace brisk::detail::wal

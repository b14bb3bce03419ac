#include "wal/segment_writer.hpp"

#include "wal/coding.hpp"
#include "wal/log_format.hpp"
#include "wal/records.hpp"
#include "wal/wal_observations.hpp"

namespace brisk::detail::wal {

SegmentWriter::SegmentWriter(WalEnv& env, std::string dir, std::uint64_t segment_bytes, std::size_t max_pieces,
                             metrics::LatencyHistogram& fsync_ns, std::function<void(std::uint32_t)> on_closed)
    : env_(env),
      dir_(std::move(dir)),
      segment_bytes_(segment_bytes),
      fsync_ns_(fsync_ns),
      on_closed_(std::move(on_closed)),
      pieces_(max_pieces + 1) {}

Status SegmentWriter::start(std::uint32_t number, std::uint64_t next_sequence) {
  const std::string header = encode_file_header({FileKind::segment, number, next_sequence});
  const std::string_view piece = header;
  if (Status s = env_.new_file(join_path(dir_, file_name(FileKind::segment, number)), &file_); !s) return s;
  if (Status s = file_->append({&piece, 1}); !s) return s;
  // The new name must survive a crash before any record in it is acked.
  if (Status s = env_.sync_dir(dir_); !s) return s;
  number_ = number;
  size_ = header.size();
  synced_ = 0;
  marked_ = 0;
  next_lsn_ = next_sequence;
  synced_lsn_ = next_sequence - 1;
  return Status::ok();
}

Status SegmentWriter::write(std::span<std::string> buffers) {
  for (std::string& buffer : buffers) {
    std::size_t piece = 0;  // start of this buffer's bytes not yet handed to a piece
    for (std::size_t at = 0; at < buffer.size();) {
      char* record = buffer.data() + at;
      const std::size_t size = kRecordHeaderSize + load_u32(record + 4);
      // Numbered here, in the order the buffers come: LSNs grow through the
      // file, whatever stream each record came from.
      set_record_sequence(record, next_lsn_);
      checksum_record(record);
      // A record never spans segments: close this one first if it would not
      // fit, unless the segment holds nothing yet (a huge record gets its own).
      const std::uint64_t used = size_ + piece_bytes_ + (at - piece);
      if (used + size > segment_bytes_ && used > kFileHeaderSize) {
        add_piece(std::string_view(buffer).substr(piece, at - piece));
        if (Status s = write_pieces(); !s) return s;
        if (Status s = rotate(); !s) return s;
        piece = at;
      }
      ++next_lsn_;
      at += size;
    }
    add_piece(std::string_view(buffer).substr(piece));
  }
  return write_pieces();
}

void SegmentWriter::add_piece(std::string_view piece) {
  if (piece.empty()) return;
  pieces_[piece_count_++] = piece;
  piece_bytes_ += piece.size();
}

Status SegmentWriter::write_pieces() {
  if (piece_bytes_ == 0) return Status::ok();
  mark_.clear();
  if (synced_ != marked_) {
    const std::size_t start = begin_record(mark_, RecordType::sync_mark, 0);
    encode(mark_, SyncMark{synced_});
    seal_record(mark_, start);
    marked_ = synced_;
  }
  pieces_[0] = mark_;
  Status s = file_->append(std::span<const std::string_view>(pieces_.data(), piece_count_));
  if (s) size_ += mark_.size() + piece_bytes_;
  piece_count_ = 1;
  piece_bytes_ = 0;
  return s;
}

Status SegmentWriter::sync() {
  if (Status s = timed(fsync_ns_, [&] { return file_->sync(); }); !s) return s;
  ++syncs_;
  synced_ = size_;
  synced_lsn_ = next_lsn_ - 1;
  return Status::ok();
}

Status SegmentWriter::rotate() {
  // Records up to next_lsn_ - 1 are written (write_pieces ran): the sync
  // makes them durable, and a closed segment is never a torn tail.
  if (Status s = sync(); !s) return s;
  if (Status s = file_->close(); !s) return s;
  if (on_closed_) on_closed_(number_);
  return start(number_ + 1, next_lsn_);
}

Status SegmentWriter::close() { return file_ ? file_->close() : Status::ok(); }

}  // namespace brisk::detail::wal

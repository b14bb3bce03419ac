// The on-disk format of the write-ahead log, shared by the writer, the
// reader and the tools. docs/wal.md describes it with byte tables; this
// header is the reference the code follows.
//
// A log is a directory of files:
//   wal-NNNNNN.log         segments, numbered from 1, written in order
//   checkpoint-NNNNNN.log  the live state as of the end of segment NNNNNN
//                          (segments up to NNNNNN are then deleted)
//
// Every file starts with a 28-byte file header, then holds records back to
// back. A record never spans two files, so each file can be checked alone.
//
//   record := crc32c:u32  length:u32  type:u8  sequence:u64  payload[length]
//
// The masked CRC32C covers length, type, sequence and payload: a flipped bit
// anywhere in a record, including its length, is caught. Sequence numbers
// (log sequence numbers, LSNs) grow by exactly one from record to record
// across all segments, which catches records that are intact but do not
// belong (a stale tail, a missing segment). Control records (sync marks)
// carry sequence 0 and stand outside that order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace brisk::detail::wal {

inline constexpr std::size_t kRecordHeaderSize = 4 + 4 + 1 + 8;
inline constexpr std::size_t kFileHeaderSize = 28;
// Anything longer is damage, not data: it bounds what a corrupt length can
// make the reader do.
inline constexpr std::uint32_t kMaxPayloadSize = 64u << 20;
inline constexpr std::uint16_t kFormatVersion = 1;
inline constexpr char kFileMagic[8] = {'B', 'R', 'I', 'S', 'K', 'W', 'A', 'L'};

enum class RecordType : std::uint8_t {
  // Control records (sequence 0).
  sync_mark = 1,  // written first in a batch: bytes [0, synced) of this file were fdatasync'ed

  // Task lifecycle (sequence = LSN). Payloads are in records.hpp.
  task_submitted = 10,
  task_completed = 11,
  task_retry_scheduled = 12,
  task_dead_lettered = 13,
  task_cancelled = 14,
  dlq_replayed = 15,  // one dead letter left the queue: replayed
  dlq_purged = 16,    // every dead letter left the queue
  dlq_dropped = 17,   // one dead letter left the queue: pushed out by a full one

  // Checkpoint files only.
  key_retained = 20,    // an idempotency key of a task that has finished
  checkpoint_end = 21,  // the last record of a complete checkpoint
};

bool is_known_type(std::uint8_t type) noexcept;
inline bool is_control(RecordType type) noexcept { return type == RecordType::sync_mark; }
std::string_view to_string(RecordType type) noexcept;

// ---- file names ----
enum class FileKind : std::uint16_t { segment = 1, checkpoint = 2 };

struct FileName {
  FileKind kind;
  std::uint32_t number;
};

std::string file_name(FileKind kind, std::uint32_t number);  // "wal-000001.log"
std::optional<FileName> parse_file_name(std::string_view name);

// ---- file header ----
//   magic[8] "BRISKWAL"  version:u16  kind:u16  number:u32  first_sequence:u64  crc32c:u32
struct FileHeader {
  FileKind kind = FileKind::segment;
  std::uint32_t number = 0;
  std::uint64_t first_sequence = 0;  // sequence of the file's first record
};

std::string encode_file_header(const FileHeader& header);
// Empty string on success, otherwise what is wrong with the header.
std::string decode_file_header(std::string_view bytes, FileHeader* header);

// ---- records ----
// Appends a record header for `type` and `sequence` with length and CRC left
// zero; the caller appends the payload and then calls seal_record().
std::size_t begin_record(std::string& out, RecordType type, std::uint64_t sequence);
// Fills in the length of the record that starts at `start` and runs to the
// end of `out`; checksum_record() then fills in its CRC. The two are apart so
// that the log writer's thread, not the producers, computes the CRCs.
void end_record(std::string& out, std::size_t start);
void checksum_record(char* record) noexcept;
// Sets the sequence of a record begun with a placeholder (the log writer
// numbers records as it lays the streams out), before checksum_record().
void set_record_sequence(char* record, std::uint64_t sequence) noexcept;
// end_record() then checksum_record(): a finished record.
void seal_record(std::string& out, std::size_t start);

}  // namespace brisk::detail::wal

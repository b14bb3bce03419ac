#include "wal/log_format.hpp"

#include <charconv>
#include <cstdio>
#include <cstring>

#include "wal/coding.hpp"
#include "wal/crc32c.hpp"

namespace brisk::detail::wal {

bool is_known_type(std::uint8_t type) noexcept {
  switch (static_cast<RecordType>(type)) {
    case RecordType::sync_mark:
    case RecordType::task_submitted:
    case RecordType::task_completed:
    case RecordType::task_retry_scheduled:
    case RecordType::task_dead_lettered:
    case RecordType::task_cancelled:
    case RecordType::dlq_replayed:
    case RecordType::dlq_purged:
    case RecordType::dlq_dropped:
    case RecordType::key_retained:
    case RecordType::checkpoint_end:
      return true;
  }
  return false;
}

std::string_view to_string(RecordType type) noexcept {
  switch (type) {
    case RecordType::sync_mark: return "sync_mark";
    case RecordType::task_submitted: return "task_submitted";
    case RecordType::task_completed: return "task_completed";
    case RecordType::task_retry_scheduled: return "task_retry_scheduled";
    case RecordType::task_dead_lettered: return "task_dead_lettered";
    case RecordType::task_cancelled: return "task_cancelled";
    case RecordType::dlq_replayed: return "dlq_replayed";
    case RecordType::dlq_purged: return "dlq_purged";
    case RecordType::dlq_dropped: return "dlq_dropped";
    case RecordType::key_retained: return "key_retained";
    case RecordType::checkpoint_end: return "checkpoint_end";
  }
  return "unknown";
}

namespace {
constexpr std::string_view kSegmentPrefix = "wal-";
constexpr std::string_view kCheckpointPrefix = "checkpoint-";
constexpr std::string_view kSuffix = ".log";
}  // namespace

std::string file_name(FileKind kind, std::uint32_t number) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%06u.log", kind == FileKind::segment ? "wal-" : "checkpoint-", number);
  return buf;
}

std::optional<FileName> parse_file_name(std::string_view name) {
  FileKind kind;
  if (name.starts_with(kSegmentPrefix)) {
    kind = FileKind::segment;
    name.remove_prefix(kSegmentPrefix.size());
  } else if (name.starts_with(kCheckpointPrefix)) {
    kind = FileKind::checkpoint;
    name.remove_prefix(kCheckpointPrefix.size());
  } else {
    return std::nullopt;
  }
  if (!name.ends_with(kSuffix)) return std::nullopt;
  name.remove_suffix(kSuffix.size());
  std::uint32_t number = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
  if (ec != std::errc() || end != name.data() + name.size() || name.empty() || number == 0) return std::nullopt;
  return FileName{kind, number};
}

std::string encode_file_header(const FileHeader& header) {
  std::string out(kFileHeaderSize, '\0');
  std::memcpy(out.data(), kFileMagic, sizeof kFileMagic);
  out[8] = static_cast<char>(kFormatVersion & 0xff);
  out[9] = static_cast<char>(kFormatVersion >> 8);
  out[10] = static_cast<char>(static_cast<std::uint16_t>(header.kind) & 0xff);
  out[11] = static_cast<char>(static_cast<std::uint16_t>(header.kind) >> 8);
  store_u32(out.data() + 12, header.number);
  store_u64(out.data() + 16, header.first_sequence);
  store_u32(out.data() + 24, crc32c::mask(crc32c::value(out.data(), 24)));
  return out;
}

std::string decode_file_header(std::string_view bytes, FileHeader* header) {
  if (bytes.size() < kFileHeaderSize) return "file header truncated";
  if (std::memcmp(bytes.data(), kFileMagic, sizeof kFileMagic) != 0) return "not a brisk WAL file (bad magic)";
  if (crc32c::unmask(load_u32(bytes.data() + 24)) != crc32c::value(bytes.data(), 24)) {
    return "file header checksum mismatch";
  }
  const auto u16 = [&](std::size_t at) {
    return static_cast<std::uint16_t>(static_cast<unsigned char>(bytes[at]) |
                                      static_cast<unsigned char>(bytes[at + 1]) << 8);
  };
  if (u16(8) != kFormatVersion) return "unsupported format version " + std::to_string(u16(8));
  const std::uint16_t kind = u16(10);
  if (kind != static_cast<std::uint16_t>(FileKind::segment) && kind != static_cast<std::uint16_t>(FileKind::checkpoint)) {
    return "unknown file kind " + std::to_string(kind);
  }
  header->kind = static_cast<FileKind>(kind);
  header->number = load_u32(bytes.data() + 12);
  header->first_sequence = load_u64(bytes.data() + 16);
  return {};
}

std::size_t begin_record(std::string& out, RecordType type, std::uint64_t sequence) {
  const std::size_t start = out.size();
  out.resize(start + kRecordHeaderSize);
  char* p = out.data() + start;
  store_u32(p, 0);
  store_u32(p + 4, 0);
  p[8] = static_cast<char>(type);
  store_u64(p + 9, sequence);
  return start;
}

void end_record(std::string& out, std::size_t start) {
  store_u32(out.data() + start + 4, static_cast<std::uint32_t>(out.size() - start - kRecordHeaderSize));
}

void seal_record(std::string& out, std::size_t start) {
  end_record(out, start);
  checksum_record(out.data() + start);
}

void set_record_sequence(char* record, std::uint64_t sequence) noexcept { store_u64(record + 9, sequence); }

void checksum_record(char* record) noexcept {
  const std::uint32_t length = load_u32(record + 4);
  store_u32(record, crc32c::mask(crc32c::value(record + 4, kRecordHeaderSize - 4 + length)));
}

}  // namespace brisk::detail::wal

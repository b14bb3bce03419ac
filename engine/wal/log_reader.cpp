#include "wal/log_reader.hpp"

#include <algorithm>

#include "wal/coding.hpp"
#include "wal/crc32c.hpp"

namespace brisk::detail::wal {

std::string Damage::to_string() const {
  std::string s = file + " offset " + std::to_string(offset) + ": " + reason + "; " + std::to_string(bytes) +
                  " bytes dropped (" + (kind == Kind::torn_tail ? "torn tail" : "corruption") + ")";
  if (intact_records > 0) s += ", " + std::to_string(intact_records) + " intact records after it dropped";
  if (missing_sequences > 0) s += ", " + std::to_string(missing_sequences) + " sequence numbers missing";
  return s;
}

std::uint64_t ReadReport::damaged_bytes() const {
  std::uint64_t n = 0;
  for (const Damage& d : damage) n += d.bytes;
  return n;
}

std::string ReadReport::summary() const {
  std::string s = std::to_string(files.size()) + " files, " + std::to_string(records) + " records, " +
                  std::to_string(bytes) + " bytes read; last sequence " + std::to_string(last_sequence);
  if (checkpoint != 0) s += "; from checkpoint " + file_name(FileKind::checkpoint, checkpoint);
  for (const Damage& d : damage) s += "\n  " + d.to_string();
  for (const std::string& f : dropped_files) s += "\n  " + f + ": not read (recovery stopped before it)";
  if (!status) s += "\n  refused: " + status.to_string();
  return s;
}

namespace {

struct Frame {
  RecordType type{};
  std::uint64_t sequence = 0;
  std::string_view payload;
  std::size_t size = 0;
};

// Why the bytes at `at` are not a record, or nullptr if they are one.
const char* parse_frame(std::string_view data, std::size_t at, Frame* f) {
  const std::size_t left = data.size() - at;
  if (left < kRecordHeaderSize) return "truncated header";
  const char* p = data.data() + at;
  const std::uint32_t length = load_u32(p + 4);
  // Every payload holds at least its version byte, so 0 is damage too (and
  // zero-filled space, which a crash can leave behind, reads as length 0).
  if (length == 0 || length > kMaxPayloadSize) return "bad length";
  if (length > left - kRecordHeaderSize) return "truncated payload";
  if (crc32c::unmask(load_u32(p)) != crc32c::value(p + 4, kRecordHeaderSize - 4 + length)) return "crc mismatch";
  const auto type = static_cast<std::uint8_t>(p[8]);
  if (!is_known_type(type)) return "unknown record type";
  f->type = static_cast<RecordType>(type);
  f->sequence = load_u64(p + 9);
  f->payload = std::string_view(p + kRecordHeaderSize, length);
  f->size = kRecordHeaderSize + length;
  return nullptr;
}

// What lies after a damaged spot, found by trying every later offset. Cheap
// tests (type, sequence range, length) run before the CRC so that scanning
// garbage costs a few loads per byte.
struct Scan {
  std::size_t first_frame = 0;       // 0: none found
  std::uint64_t first_sequence = 0;  // of the first data record found (0: none)
  std::uint64_t frames = 0;
  std::uint64_t max_sync_mark = 0;
};

Scan scan_after(std::string_view data, std::size_t damage_at, std::uint64_t last_sequence) {
  Scan scan;
  std::size_t q = damage_at + 1;
  while (q + kRecordHeaderSize <= data.size()) {
    const char* p = data.data() + q;
    const auto type = static_cast<std::uint8_t>(p[8]);
    const std::uint64_t seq = load_u64(p + 9);
    const bool plausible = is_known_type(type) &&
                           (is_control(static_cast<RecordType>(type))
                                ? seq == 0
                                : seq > last_sequence && seq - last_sequence <= (std::uint64_t{1} << 32));
    Frame f;
    if (!plausible || parse_frame(data, q, &f) != nullptr) {
      ++q;
      continue;
    }
    if (scan.first_frame == 0) scan.first_frame = q;
    ++scan.frames;
    if (is_control(f.type)) {
      Event e;
      if (decode(f.type, f.payload, &e).empty()) {
        scan.max_sync_mark = std::max(scan.max_sync_mark, std::get<SyncMark>(e).synced_bytes);
      }
    } else if (scan.first_sequence == 0) {
      scan.first_sequence = f.sequence;
    }
    q += f.size;
  }
  return scan;
}

class Reader {
 public:
  Reader(WalEnv& env, const std::string& dir, const ReadOptions& options, const RecordVisitor& visit)
      : env_(env), dir_(dir), options_(options), visit_(visit) {}

  ReadReport run() {
    std::vector<std::string> names;
    if (Status s = env_.list_dir(dir_, &names); !s) {
      report_.status = s;
      return std::move(report_);
    }
    std::vector<FileName> segments;
    std::uint32_t checkpoint = 0;
    for (const std::string& name : names) {
      const auto parsed = parse_file_name(name);
      if (!parsed) continue;
      if (options_.through_segment != 0 && parsed->number > options_.through_segment) continue;
      if (parsed->kind == FileKind::segment) {
        segments.push_back(*parsed);
      } else if (parsed->number > checkpoint) {
        if (checkpoint != 0) report_.obsolete_files.push_back(file_name(FileKind::checkpoint, checkpoint));
        checkpoint = parsed->number;
      } else {
        report_.obsolete_files.push_back(name);
      }
    }
    std::sort(segments.begin(), segments.end(), [](const FileName& a, const FileName& b) { return a.number < b.number; });
    std::vector<FileName> order;
    if (checkpoint != 0) order.push_back({FileKind::checkpoint, checkpoint});
    for (const FileName& f : segments) {
      if (f.number <= checkpoint) {
        report_.obsolete_files.push_back(file_name(f.kind, f.number));
      } else {
        order.push_back(f);
      }
    }
    report_.checkpoint = checkpoint;
    report_.last_segment = segments.empty() ? 0 : segments.back().number;
    for (std::size_t i = 0; i < order.size(); ++i) {
      const bool newest = i + 1 == order.size() && order[i].kind == FileKind::segment && options_.through_segment == 0;
      if (!read_file(order[i], newest)) {
        for (std::size_t j = i + 1; j < order.size(); ++j) {
          if (report_.status) report_.dropped_files.push_back(file_name(order[j].kind, order[j].number));
        }
        break;
      }
    }
    report_.last_sequence = last_sequence_;
    return std::move(report_);
  }

 private:
  // Reads one file; false when reading must stop (refused, or point_in_time).
  bool read_file(const FileName& fn, bool newest) {
    const std::string name = file_name(fn.kind, fn.number);
    std::string data;
    if (Status s = env_.read_file(join_path(dir_, name), &data); !s) {
      report_.status = s;
      return false;
    }
    FileSummary& fs = report_.files.emplace_back();
    fs.name = name;
    fs.kind = fn.kind;
    fs.number = fn.number;
    fs.size = data.size();
    report_.bytes += data.size();
    const bool checkpoint = fn.kind == FileKind::checkpoint;
    // A checkpoint numbers its records from 1; segments carry the LSNs.
    std::uint64_t local_expected = 1;
    std::uint64_t& expected = checkpoint ? local_expected : expected_;
    bool saw_end = false;

    if (data.empty() && newest) return true;  // created just before a crash: nothing was in it
    std::size_t off = 0;
    FileHeader header;
    std::string why = decode_file_header(data, &header);
    if (why.empty() && (header.kind != fn.kind || header.number != fn.number)) {
      why = "file header belongs to " + file_name(header.kind, header.number);
    }
    if (why.empty()) {
      off = kFileHeaderSize;
      fs.valid_bytes = off;
      if (!checkpoint && expected != 0 && header.first_sequence != expected) {
        if (!on_sequence_gap(fs, header.first_sequence)) return false;
      }
      if (!checkpoint) expected = header.first_sequence;
    } else {
      const Outcome o = on_damage(fs, data, 0, why, newest, expected);
      if (o.stop) return false;
      if (o.resume_at == 0) return true;
      off = o.resume_at;
    }

    while (off < data.size()) {
      Frame f;
      Event event;
      const char* bad = parse_frame(data, off, &f);
      why = bad != nullptr ? std::string(bad) : std::string();
      if (why.empty()) {
        if (is_control(f.type)) {
          if (f.sequence != 0) why = "control record with sequence " + std::to_string(f.sequence);
        } else if (expected != 0 && f.sequence != expected) {
          why = "sequence " + std::to_string(f.sequence) + " where " + std::to_string(expected) + " was expected";
        } else if (saw_end) {
          why = "record after the checkpoint's end";
        } else if (!checkpoint && (f.type == RecordType::key_retained || f.type == RecordType::checkpoint_end)) {
          why = std::string(to_string(f.type)) + " record outside a checkpoint";
        }
      }
      if (why.empty()) {
        if (std::string e = decode(f.type, f.payload, &event); !e.empty()) why = "bad payload: " + e;
      }
      if (!why.empty()) {
        const Outcome o = on_damage(fs, data, off, why, newest, expected);
        if (o.stop) return false;
        if (o.resume_at == 0) return true;
        off = o.resume_at;
        continue;
      }
      if (!is_control(f.type)) {
        expected = f.sequence + 1;
        if (fs.first_sequence == 0) fs.first_sequence = f.sequence;
        fs.last_sequence = f.sequence;
        if (!checkpoint) last_sequence_ = f.sequence;
      }
      if (const auto* end = std::get_if<CheckpointEnd>(&event)) {
        saw_end = true;
        expected_ = end->last_sequence + 1;
        last_sequence_ = end->last_sequence;
      }
      ++fs.records;
      ++report_.records;
      visit_(RecordView{fs, off, f.sequence, f.type, event});
      off += f.size;
      fs.valid_bytes = off;
    }
    if (checkpoint && !saw_end) {
      const Outcome o = on_damage(fs, data, data.size(), "checkpoint has no end record", false, expected);
      if (o.stop) return false;
      expected_ = 0;  // skipped: accept whatever sequence the next segment starts at
    }
    return true;
  }

  struct Outcome {
    bool stop = false;
    std::size_t resume_at = 0;  // 0: nothing more to read in this file
  };

  Outcome on_damage(FileSummary& fs, std::string_view data, std::size_t off, const std::string& why, bool newest,
                    std::uint64_t& expected) {
    const std::uint64_t last = expected == 0 ? 0 : expected - 1;
    const Scan scan = off < data.size() ? scan_after(data, off, last) : Scan{};
    Damage d;
    d.file = fs.name;
    d.offset = off;
    d.reason = why;
    d.bytes = data.size() - off;
    d.intact_records = scan.frames;
    const bool tail = newest && scan.max_sync_mark <= off;
    const RecoveryMode mode = options_.mode;
    if (tail) {
      d.kind = Damage::Kind::torn_tail;
      if (mode == RecoveryMode::absolute_consistency) return refuse(d);
      report_.damage.push_back(std::move(d));
      return {};
    }
    fs.damaged = true;
    d.kind = Damage::Kind::corruption;
    if (mode == RecoveryMode::tolerate_corrupted_tail_records || mode == RecoveryMode::absolute_consistency) {
      return refuse(d);
    }
    if (mode == RecoveryMode::point_in_time || scan.first_frame == 0) {
      report_.damage.push_back(std::move(d));
      return {mode == RecoveryMode::point_in_time, 0};
    }
    d.bytes = scan.first_frame - off;
    d.intact_records = 0;
    if (scan.first_sequence != 0) {
      if (expected != 0 && scan.first_sequence > expected) d.missing_sequences = scan.first_sequence - expected;
      expected = scan.first_sequence;
    }
    report_.damage.push_back(std::move(d));
    return {false, scan.first_frame};
  }

  bool on_sequence_gap(FileSummary& fs, std::uint64_t first_sequence) {
    Damage d;
    d.file = fs.name;
    d.reason = "file starts at sequence " + std::to_string(first_sequence) + " where " + std::to_string(expected_) +
               " was expected (a missing or stale file)";
    if (first_sequence > expected_) d.missing_sequences = first_sequence - expected_;
    fs.damaged = true;
    switch (options_.mode) {
      case RecoveryMode::skip_any_corrupted_record: report_.damage.push_back(std::move(d)); return true;
      case RecoveryMode::point_in_time:
        d.bytes = fs.size;
        report_.damage.push_back(std::move(d));
        return false;
      default: refuse(d); return false;
    }
  }

  Outcome refuse(const Damage& d) {
    report_.status = Status::corruption(d.file + " offset " + std::to_string(d.offset) + ": " + d.reason + " (" +
                                        (d.kind == Damage::Kind::torn_tail ? "torn tail" : "damage before the tail") +
                                        "; recovery mode " + std::string(to_string(options_.mode)) +
                                        " refuses it)");
    report_.damage.push_back(d);
    return {true, 0};
  }

  WalEnv& env_;
  const std::string& dir_;
  const ReadOptions& options_;
  const RecordVisitor& visit_;
  ReadReport report_;
  std::uint64_t expected_ = 1;  // next LSN; 0 after a skip: whatever comes next
  std::uint64_t last_sequence_ = 0;
};

}  // namespace

ReadReport read_log(WalEnv& env, const std::string& dir, const ReadOptions& options, const RecordVisitor& visit) {
  return Reader(env, dir, options, visit).run();
}

}  // namespace brisk::detail::wal

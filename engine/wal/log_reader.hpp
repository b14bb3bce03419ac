// Reading a log back: every file in order, every record verified (framing,
// CRC, sequence, payload), damage handled as the recovery mode says.
//
// Tail or middle? A crash leaves garbage only where bytes were written but
// not yet synced. The writer starts each batch with a sync mark saying how
// much of the file was durable at that moment, so damage at offset D of the
// newest segment is a torn tail when no intact record after D claims that D
// was already durable; otherwise the damage hit synced data: corruption.
// Damage in an older segment or a checkpoint is always corruption, because a
// segment is synced before the next one is created.
//
//   mode                              torn tail              damage in the middle
//   tolerate_corrupted_tail_records   cut, reported          refuse: error names file and offset
//   absolute_consistency              refuse                 refuse
//   point_in_time                     cut, reported          stop there: the rest of the log is
//                                                            dropped, reported
//   skip_any_corrupted_record         cut, reported          skip to the next intact record,
//                                                            every skip reported
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "brisk/durability.hpp"
#include "wal/log_format.hpp"
#include "wal/records.hpp"
#include "wal/status.hpp"
#include "wal/wal_env.hpp"

namespace brisk::detail::wal {

// The public modes (brisk/durability.hpp), one definition for the engine and
// the log, and their names (policy_names.cpp).
using brisk::RecoveryMode;
using brisk::to_string;
std::optional<RecoveryMode> parse_recovery_mode(std::string_view name) noexcept;

// One place where the log is not what the writer wrote.
struct Damage {
  enum class Kind : std::uint8_t { torn_tail, corruption };
  Kind kind = Kind::corruption;
  std::string file;
  std::uint64_t offset = 0;
  std::uint64_t bytes = 0;         // bytes of `file` not replayed because of it
  std::uint64_t intact_records = 0;  // whole records within those bytes that were dropped too
  std::uint64_t missing_sequences = 0;  // LSNs that never appeared (a gap) because of it
  std::string reason;              // "crc mismatch", "truncated header", ...
  std::string to_string() const;
};

struct FileSummary {
  std::string name;
  FileKind kind = FileKind::segment;
  std::uint32_t number = 0;
  std::uint64_t size = 0;
  std::uint64_t valid_bytes = 0;  // header and records replayed
  std::uint64_t records = 0;
  std::uint64_t first_sequence = 0;  // of the records replayed (0: none)
  std::uint64_t last_sequence = 0;
  bool damaged = false;  // holds damage other than a torn tail
};

struct ReadReport {
  Status status;  // not OK: the mode refused this log; the message names file and offset
  std::vector<FileSummary> files;            // read, in order
  std::vector<std::string> obsolete_files;   // covered by the checkpoint, not read
  std::vector<std::string> dropped_files;    // not read because point_in_time stopped before them
  std::vector<Damage> damage;                // every cut, stop and skip, in log order
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::uint64_t last_sequence = 0;   // LSN of the last record replayed
  std::uint32_t last_segment = 0;    // number of the newest segment file (0: none)
  std::uint32_t checkpoint = 0;      // number of the checkpoint replayed (0: none)
  std::uint64_t damaged_bytes() const;
  std::string summary() const;       // a few lines for a log file or an operator
};

struct RecordView {
  const FileSummary& file;
  std::uint64_t offset;
  std::uint64_t sequence;  // LSN; in a checkpoint its position there; 0 for control records
  RecordType type;
  Event& event;  // the visitor may move from it
};
using RecordVisitor = std::function<void(const RecordView&)>;

struct ReadOptions {
  RecoveryMode mode = RecoveryMode::tolerate_corrupted_tail_records;
  // 0: the whole log. Otherwise only the checkpoint and segments up to this
  // number, which must all be closed (synced): no damage there is a tail.
  std::uint32_t through_segment = 0;
};

ReadReport read_log(WalEnv& env, const std::string& dir, const ReadOptions& options, const RecordVisitor& visit);

}  // namespace brisk::detail::wal

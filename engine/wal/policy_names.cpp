// The names of the public FsyncPolicy and RecoveryMode (brisk/durability.hpp),
// defined beside the log that gives them their meaning, and the parser the
// wal tool uses.
#include "brisk/durability.hpp"
#include "wal/log_reader.hpp"

namespace brisk {

std::string_view to_string(FsyncPolicy policy) noexcept {
  switch (policy) {
    case FsyncPolicy::always: return "always";
    case FsyncPolicy::interval: return "interval";
    case FsyncPolicy::never: return "never";
  }
  return "unknown";
}

std::string_view to_string(RecoveryMode mode) noexcept {
  switch (mode) {
    case RecoveryMode::tolerate_corrupted_tail_records: return "tolerate_corrupted_tail_records";
    case RecoveryMode::absolute_consistency: return "absolute_consistency";
    case RecoveryMode::point_in_time: return "point_in_time";
    case RecoveryMode::skip_any_corrupted_record: return "skip_any_corrupted_record";
  }
  return "unknown";
}

}  // namespace brisk

namespace brisk::detail::wal {

std::optional<RecoveryMode> parse_recovery_mode(std::string_view name) noexcept {
  for (const RecoveryMode m : {RecoveryMode::tolerate_corrupted_tail_records, RecoveryMode::absolute_consistency,
                               RecoveryMode::point_in_time, RecoveryMode::skip_any_corrupted_record}) {
    if (name == to_string(m)) return m;
  }
  return std::nullopt;
}

}  // namespace brisk::detail::wal

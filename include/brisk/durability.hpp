// Durability: the write-ahead log that makes accepted named tasks survive a
// crash (at-least-once execution; idempotency keys deduplicate submissions,
// and a handler passes TaskContext::idempotency_key() on to make its side
// effects idempotent). See
// docs/wal.md for the format and exactly what each policy can lose.
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace brisk {

// When a durable submission is acknowledged (Engine::wait_durable):
enum class FsyncPolicy : std::uint8_t {
  always,    // after the batch holding it was written and fdatasync'ed: a crash loses nothing acked
  interval,  // after write(); fdatasync every fsync_interval: power loss may lose that window
  never,     // after write(); the OS flushes when it likes: power loss may lose 30 s or more
};

// What recovery does with damage (RocksDB's modes; docs/wal.md has the table).
enum class RecoveryMode : std::uint8_t {
  tolerate_corrupted_tail_records,  // cut a torn tail, refuse damage in the middle (default)
  absolute_consistency,             // refuse any damage, even a torn tail
  point_in_time,                    // stop at the first damage, drop everything after it
  skip_any_corrupted_record,        // skip damaged records, keep going
};

// Their names, as configuration files and reports spell them.
std::string_view to_string(FsyncPolicy policy) noexcept;
std::string_view to_string(RecoveryMode mode) noexcept;

struct DurabilityConfig {
  // Directory of the log; empty: no log, named tasks live in memory only.
  // One engine at a time: start() locks <wal_dir>/LOCK (flock) and a second
  // engine's start() throws RecoveryError. The lock goes with the process.
  std::string wal_dir;
  FsyncPolicy fsync = FsyncPolicy::always;
  std::chrono::milliseconds fsync_interval{1000};
  std::uint64_t segment_bytes = 64ull << 20;
  RecoveryMode recovery_mode = RecoveryMode::tolerate_corrupted_tail_records;
  // With a log, named tasks are durable unless TaskOptions says memory.
  bool durable_by_default = true;
};

// What start() found in the log.
struct RecoveryReport {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::uint64_t tasks_requeued = 0;       // incomplete tasks run again
  std::uint64_t dead_letters_restored = 0;
  std::uint64_t keys_restored = 0;        // idempotency keys still within retention
  std::uint64_t bytes_dropped = 0;        // cut or skipped because of damage
  std::vector<std::string> damage;        // one line per cut or skip: file, offset, reason
};

// start() could not recover the log under the chosen RecoveryMode; the
// message names the segment and offset. Nothing was started.
class RecoveryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace brisk

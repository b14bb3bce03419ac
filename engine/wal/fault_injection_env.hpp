// FaultInjectionEnv: a WalEnv for tests that wraps a real one and
//  - fails the Nth counted operation with an errno (ENOSPC, EIO), once or
//    for every later operation too, the way SQLite's fault sweeps do;
//  - slows writes and syncs down (a slow disk);
//  - simulates a machine crash: bytes written since a file's last successful
//    sync are dropped, torn (a random prefix kept) or scrambled (each 512-byte
//    sector kept, zeroed or garbled independently, as a disk cache reorders
//    writes), and files created since their directory was last synced vanish.
// Thread-safe: the log's writer and compaction threads share it.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>

#include "wal/wal_env.hpp"

namespace brisk::detail::wal {

// Operations the fault plan can count and fail (a bit mask).
enum FaultOp : std::uint32_t {
  kFaultWrite = 1u << 0,
  kFaultSync = 1u << 1,
  kFaultOpen = 1u << 2,  // new_file
  kFaultRead = 1u << 3,
  kFaultList = 1u << 4,
  kFaultRemove = 1u << 5,
  kFaultRename = 1u << 6,
  kFaultTruncate = 1u << 7,
  kFaultSyncDir = 1u << 8,
  kFaultAll = (1u << 9) - 1,
};

struct FaultPlan {
  std::uint64_t fail_at = 0;  // 1-based index among counted operations; 0: never fail
  bool persistent = false;    // also fail every counted operation after it
  int error = EIO;
  std::uint32_t ops = kFaultAll;  // which operations count
};

enum class CrashMode {
  drop_unsynced,      // every byte written since the last sync is gone
  tear_unsynced,      // a random prefix of the unsynced bytes survives
  scramble_unsynced,  // unsynced sectors survive, vanish or turn to garbage, independently
};

class FaultInjectionEnv final : public WalEnv {
 public:
  explicit FaultInjectionEnv(WalEnv& base) : base_(base) {}

  void set_plan(const FaultPlan& plan);
  std::uint64_t counted_operations() const;  // since the last set_plan
  std::uint64_t injected_faults() const;
  void set_delays(std::chrono::microseconds write_delay, std::chrono::microseconds sync_delay);

  // From now on every operation fails with EIO, as if the machine stopped:
  // the log under test can neither write nor sync any more. Then destroy it
  // and call apply_crash().
  void freeze();
  // Rewrites the files as a crash would have left them (see CrashMode),
  // then thaws the env so that recovery can run.
  Status apply_crash(CrashMode mode, std::uint64_t seed);

  Status create_dir(const std::string& dir) override;
  Status new_file(const std::string& path, std::unique_ptr<WalFile>* file) override;
  Status read_file(const std::string& path, std::string* contents) override;
  Status list_dir(const std::string& dir, std::vector<std::string>* names) override;
  Status remove_file(const std::string& path) override;
  Status rename_file(const std::string& from, const std::string& to) override;
  Status truncate_file(const std::string& path, std::uint64_t size) override;
  Status sync_dir(const std::string& dir) override;

 private:
  class File;
  struct Tracked {
    std::uint64_t size = 0;         // bytes appended through this env
    std::uint64_t synced_size = 0;  // of which durable
    bool dir_synced = false;        // its creation survived a directory sync
  };

  // Counts an operation of kind `op` and says whether it must fail.
  Status check(FaultOp op, const std::string& what);
  void on_appended(const std::string& path, std::uint64_t bytes);
  void on_synced(const std::string& path);

  WalEnv& base_;
  mutable std::mutex mutex_;
  FaultPlan plan_;
  std::uint64_t counted_ = 0;
  std::uint64_t injected_ = 0;
  bool frozen_ = false;
  std::chrono::microseconds write_delay_{0};
  std::chrono::microseconds sync_delay_{0};
  std::map<std::string, Tracked> files_;
};

}  // namespace brisk::detail::wal

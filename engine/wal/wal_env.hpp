// The file layer under the log: everything the WAL does to the file system
// goes through WalEnv, so tests can swap in FaultInjectionEnv (failing the
// Nth operation, dropping unsynced data at a simulated crash, a slow disk)
// the way LevelDB's and RocksDB's test environments do.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wal/status.hpp"

namespace brisk::detail::wal {

// A file open for appending.
class WalFile {
 public:
  virtual ~WalFile() = default;
  // Appends the pieces, in order, with as few system calls as possible. On
  // error an unknown prefix of the bytes may have been written.
  virtual Status append(std::span<const std::string_view> pieces) = 0;
  // fdatasync: when it returns OK everything appended so far is durable. A
  // failed sync is final; retrying it would prove nothing (the kernel may
  // already have dropped the dirty pages it could not write).
  virtual Status sync() = 0;
  virtual Status close() = 0;
};

class WalEnv {
 public:
  virtual ~WalEnv() = default;
  virtual Status create_dir(const std::string& dir) = 0;  // OK if it already exists
  // Creates `path` (truncating any file of that name) for appending.
  virtual Status new_file(const std::string& path, std::unique_ptr<WalFile>* file) = 0;
  virtual Status read_file(const std::string& path, std::string* contents) = 0;
  // Plain names (no directory part) of the entries in `dir`.
  virtual Status list_dir(const std::string& dir, std::vector<std::string>* names) = 0;
  virtual Status remove_file(const std::string& path) = 0;
  virtual Status rename_file(const std::string& from, const std::string& to) = 0;
  // Cuts `path` to `size` bytes and makes the new size durable.
  virtual Status truncate_file(const std::string& path, std::uint64_t size) = 0;
  // Makes file creations, renames and removals in `dir` durable.
  virtual Status sync_dir(const std::string& dir) = 0;

  // The real file system (process-wide, stateless).
  static WalEnv& posix();
};

inline std::string join_path(const std::string& dir, std::string_view name) {
  std::string path = dir;
  if (!path.empty() && path.back() != '/') path += '/';
  path += name;
  return path;
}

}  // namespace brisk::detail::wal

// DirLock: one engine at a time per write-ahead log directory.
//
// Two engines on one wal_dir would each fold the other's segments into
// their own checkpoint and delete them, losing acknowledged tasks. So, as
// LevelDB does, the engine holds an exclusive flock() on <wal_dir>/LOCK for
// as long as it has the log open. flock() locks belong to the open file
// description, so a second engine in the same process is refused as surely
// as one in another process; the kernel drops the lock when the process
// dies (SIGKILL included), so a LOCK file left behind never blocks a
// restart. The descriptor is close-on-exec, so a program the engine's
// process execs does not hold the lock. The read-only `brisk wal` tools
// neither take nor need it.
#pragma once

#include <string>

namespace brisk::detail {

class DirLock {
 public:
  static constexpr const char* kFileName = "LOCK";

  // Creates `dir` if it is missing (its parent must exist, as for the log),
  // then locks <dir>/LOCK. Throws RecoveryError naming the directory when
  // another engine holds it, or when the directory or file cannot be opened.
  explicit DirLock(const std::string& dir);
  ~DirLock();  // closing the descriptor releases the lock; the file stays
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace brisk::detail

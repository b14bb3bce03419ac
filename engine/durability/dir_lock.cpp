#include "durability/dir_lock.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "brisk/durability.hpp"

namespace brisk::detail {

namespace {

[[noreturn]] void fail(const std::string& dir, const std::string& what, int err) {
  throw RecoveryError("brisk: cannot lock the write-ahead log directory '" + dir + "': " + what + ": " +
                      std::strerror(err));
}

}  // namespace

DirLock::DirLock(const std::string& dir) {
  // The log creates its directory the same way (one level); the lock file
  // needs it first.
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) fail(dir, "mkdir " + dir, errno);
  std::string path = dir;
  if (!path.empty() && path.back() != '/') path += '/';
  path += kFileName;
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(dir, "open " + path, errno);
  int rc;
  do {
    rc = ::flock(fd_, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw RecoveryError("brisk: the write-ahead log directory '" + dir +
                          "' is in use by another engine (in this or another process holding " + path +
                          "); two engines must not share a durability.wal_dir");
    }
    fail(dir, "flock " + path, err);
  }
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace brisk::detail

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "hardware/hardware.hpp"
#include "timing.hpp"

namespace peers {

namespace {

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

std::string fs_type(const std::string& dir) {
  struct statfs s {};
  if (statfs(dir.c_str(), &s) != 0) return "unknown";
  switch (static_cast<unsigned long>(s.f_type)) {
    case EXT4_SUPER_MAGIC: return "ext4";
    case TMPFS_MAGIC: return "tmpfs (fdatasync is a no-op)";
    case XFS_SUPER_MAGIC: return "xfs";
    case BTRFS_SUPER_MAGIC: return "btrfs";
    case OVERLAYFS_SUPER_MAGIC: return "overlayfs";
    default: return "other";
  }
}

void write_all(int fd, const char* data, std::size_t size) {
  while (size != 0) {
    const ssize_t n = ::write(fd, data, size);
    check(n > 0, "write");
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

// Owns the temp dir and its one file; removes both however we leave.
struct TempFile {
  std::string dir;
  std::string path;
  int fd = -1;
  explicit TempFile(const std::string& parent) {
    std::string tmpl = parent + "/brisk-peers-XXXXXX";
    check(mkdtemp(tmpl.data()) != nullptr, "mkdtemp");
    dir = tmpl;
    path = dir + "/data";
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    check(fd >= 0, "open");
  }
  ~TempFile() {
    ::close(fd);
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }
};

}  // namespace

DiskLimits disk_limits(const std::string& parent, int appends, int write_mib) {
  DiskLimits r;
  {
    TempFile file(parent);
    r.dir = file.dir;
    r.fs = fs_type(file.dir);
    const std::vector<char> block(4096, 'b');
    std::vector<double> us;
    for (int i = 0; i < appends; ++i) {
      const std::int64_t t0 = now_ns();
      write_all(file.fd, block.data(), block.size());
      check(::fdatasync(file.fd) == 0, "fdatasync");
      us.push_back(static_cast<double>(now_ns() - t0) / 1e3);
    }
    std::sort(us.begin(), us.end());
    r.appends = appends;
    r.fdatasync_p50_us = us[us.size() / 2];
    r.fdatasync_p99_us = us[std::min(us.size() - 1, us.size() * 99 / 100)];
    r.fdatasync_max_us = us.back();
  }
  {
    TempFile file(parent);
    const std::vector<char> chunk(1 << 20, 'w');
    const std::int64_t t0 = now_ns();
    for (int i = 0; i < write_mib; ++i) write_all(file.fd, chunk.data(), chunk.size());
    check(::fdatasync(file.fd) == 0, "fdatasync");
    r.write_mib = write_mib;
    r.write_mib_per_s = write_mib * 1e9 / static_cast<double>(now_ns() - t0);
  }
  return r;
}

}  // namespace peers

// WalEnv on POSIX: open/writev/fdatasync/ftruncate/rename, EINTR retried,
// every error reported with the path and errno.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "wal/wal_env.hpp"

namespace brisk::detail::wal {
namespace {

class PosixFile final : public WalFile {
 public:
  PosixFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status append(std::span<const std::string_view> pieces) override {
    std::vector<iovec> iov;
    iov.reserve(pieces.size());
    for (const std::string_view p : pieces) {
      if (!p.empty()) iov.push_back({const_cast<char*>(p.data()), p.size()});
    }
    std::size_t first = 0;
    while (first < iov.size()) {
      const int count = static_cast<int>(std::min<std::size_t>(iov.size() - first, IOV_MAX));
      const ssize_t n = ::writev(fd_, iov.data() + first, count);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::from_errno("write " + path_, errno);
      }
      // A short write (a signal, a nearly full disk): skip what went out and
      // go again; a full disk then answers ENOSPC.
      auto left = static_cast<std::size_t>(n);
      while (first < iov.size() && left >= iov[first].iov_len) left -= iov[first++].iov_len;
      if (first < iov.size()) {
        iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
        iov[first].iov_len -= left;
      }
    }
    return Status::ok();
  }

  Status sync() override {
    if (::fdatasync(fd_) != 0) return Status::from_errno("fdatasync " + path_, errno);
    return Status::ok();
  }

  Status close() override {
    if (fd_ < 0) return Status::ok();
    const int rc = ::close(fd_);
    fd_ = -1;
    // close() may report a deferred write error (NFS); never EINTR-retry it.
    if (rc != 0 && errno != EINTR) return Status::from_errno("close " + path_, errno);
    return Status::ok();
  }

 private:
  std::string path_;
  int fd_;
};

class PosixEnv final : public WalEnv {
 public:
  Status create_dir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Status::from_errno("mkdir " + dir, errno);
    return Status::ok();
  }

  Status new_file(const std::string& path, std::unique_ptr<WalFile>* file) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Status::from_errno("open " + path, errno);
    *file = std::make_unique<PosixFile>(path, fd);
    return Status::ok();
  }

  Status read_file(const std::string& path, std::string* contents) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::from_errno("open " + path, errno);
    struct stat st {};
    Status s;
    if (::fstat(fd, &st) != 0) {
      s = Status::from_errno("stat " + path, errno);
    } else {
      contents->resize(static_cast<std::size_t>(st.st_size));
      std::size_t done = 0;
      while (done < contents->size()) {
        const ssize_t n = ::read(fd, contents->data() + done, contents->size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          s = Status::from_errno("read " + path, errno);
          break;
        }
        if (n == 0) break;  // shrank under us: keep what was there
        done += static_cast<std::size_t>(n);
      }
      contents->resize(done);
    }
    ::close(fd);
    return s;
  }

  Status list_dir(const std::string& dir, std::vector<std::string>* names) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return Status::from_errno("opendir " + dir, errno);
    names->clear();
    while (const dirent* e = ::readdir(d)) {
      const std::string_view name = e->d_name;
      if (name != "." && name != "..") names->emplace_back(name);
    }
    ::closedir(d);
    return Status::ok();
  }

  Status remove_file(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return Status::from_errno("unlink " + path, errno);
    return Status::ok();
  }

  Status rename_file(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return Status::from_errno("rename " + from + " to " + to, errno);
    return Status::ok();
  }

  Status truncate_file(const std::string& path, std::uint64_t size) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return Status::from_errno("open " + path, errno);
    Status s;
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      s = Status::from_errno("truncate " + path, errno);
    } else if (::fdatasync(fd) != 0) {
      s = Status::from_errno("fdatasync " + path, errno);
    }
    ::close(fd);
    return s;
  }

  Status sync_dir(const std::string& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Status::from_errno("open " + dir, errno);
    Status s;
    if (::fsync(fd) != 0) s = Status::from_errno("fsync " + dir, errno);
    ::close(fd);
    return s;
  }
};

}  // namespace

WalEnv& WalEnv::posix() {
  static PosixEnv env;
  return env;
}

}  // namespace brisk::detail::wal

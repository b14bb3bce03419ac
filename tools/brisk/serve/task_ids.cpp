#include "brisk/serve/task_ids.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <stdexcept>

namespace brisk::serve {
namespace {

std::optional<std::uint64_t> decimal(std::string_view s) {
  std::uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

[[noreturn]] void fail(const std::string& what, int err) {
  throw std::runtime_error(what + ": " + std::strerror(err));
}

void write_synced(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("open " + path, errno);
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int write_err = n < 0 ? errno : (static_cast<std::size_t>(n) != text.size() ? EIO : 0);
  // One fdatasync, never retried: a failed sync leaves the file's state
  // unknown, so the service refuses to start rather than guess.
  const int sync_err = write_err == 0 && ::fdatasync(fd) != 0 ? errno : 0;
  ::close(fd);
  if (write_err != 0) fail("write " + path, write_err);
  if (sync_err != 0) fail("fdatasync " + path, sync_err);
}

}  // namespace

std::uint64_t TaskIds::next_run(const std::string& wal_dir) {
  if (wal_dir.empty()) {
    std::random_device rd;
    const std::uint64_t r = (static_cast<std::uint64_t>(rd()) << 32 | rd()) >> 1;
    return r == 0 ? 1 : r;
  }
  std::error_code ec;
  std::filesystem::create_directories(wal_dir, ec);  // the engine would create it, but later
  if (ec) throw std::runtime_error("create " + wal_dir + ": " + ec.message());
  const std::string path = wal_dir + "/serve-run";
  std::uint64_t previous = 0;
  if (std::ifstream in(path); in) {
    std::string text;
    std::getline(in, text);
    const auto n = decimal(text);
    if (!n) throw std::runtime_error(path + ": not a run number ('" + text.substr(0, 32) + "'); remove it only if no client keeps task ids");
    previous = *n;
  }
  const std::string temporary = path + ".tmp";
  write_synced(temporary, std::to_string(previous + 1) + "\n");
  if (::rename(temporary.c_str(), path.c_str()) != 0) fail("rename " + temporary, errno);
  const int dir = ::open(wal_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) fail("open " + wal_dir, errno);
  const int err = ::fsync(dir) != 0 ? errno : 0;
  ::close(dir);
  if (err != 0) fail("fsync " + wal_dir, err);
  return previous + 1;
}

TaskIds::Parsed TaskIds::parse(std::string_view text, TaskId* id) const {
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) return decimal(text) ? Parsed::other_run : Parsed::invalid;
  const auto run = decimal(text.substr(0, dash));
  const auto engine_id = decimal(text.substr(dash + 1));
  if (!run || !engine_id || *engine_id == 0) return Parsed::invalid;
  if (*run != run_) return Parsed::other_run;
  *id = *engine_id;
  return Parsed::ours;
}

}  // namespace brisk::serve

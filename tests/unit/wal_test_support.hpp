// Helpers shared by the WAL tests: a temporary directory that cleans up
// after itself, whole-file reads and writes, and sample records.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "wal/file_builder.hpp"
#include "wal/records.hpp"

namespace brisk::test {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/brisk-wal-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    EXPECT_NE(made, nullptr);
    path_ = made != nullptr ? made : "/tmp";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const noexcept { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline detail::wal::TaskImage sample_task(TaskId id, std::string key = {}) {
  detail::wal::TaskImage t;
  t.id = id;
  t.type_name = "email.send";
  t.payload = std::string(64, static_cast<char>('a' + id % 26));
  t.priority = 1;
  t.run_at_ns = 0;
  t.attempt = 0;
  t.idempotency_key = std::move(key);
  t.submit_ns = 1'000 + static_cast<std::int64_t>(id);
  return t;
}

}  // namespace brisk::test

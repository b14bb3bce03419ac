// A fresh directory under `base`, removed with everything in it when the
// object goes: the benchmarks' stores (WAL segments, redis AOF, JetStream).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace brisk_bench {

class TempDir {
 public:
  explicit TempDir(const std::string& base) {
    std::string pattern = base + "/brisk-bench-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp in " + base + " failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace brisk_bench

// The limits of this machine, for docs/perf.md: how far brisk is from them.
#pragma once

#include <cstdint>
#include <string>

#include "ping_pong.hpp"

namespace peers {

using bench_common::cache_line_ping_pong;
using bench_common::PingPong;

struct DiskLimits {
  std::string dir;        // where it was measured
  std::string fs;         // file system type of that dir
  double fdatasync_p50_us = 0, fdatasync_p99_us = 0, fdatasync_max_us = 0;
  int appends = 0;
  double write_mib_per_s = 0;  // sequential write, including the final fdatasync
  double write_mib = 0;
};

// Appends `appends` 4 KiB blocks to a file in a fresh temp dir under `parent`,
// fdatasync after each; then writes `write_mib` MiB sequentially in 1 MiB
// blocks and fdatasyncs once. Removes what it created.
DiskLimits disk_limits(const std::string& parent, int appends, int write_mib);

}  // namespace peers

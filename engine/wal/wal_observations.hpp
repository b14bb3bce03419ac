// WalObservations: what the log's group commit did, batch by batch, for a
// profiler: how large each batch was (bytes and records: the group-commit
// size) and how long each fdatasync took. Kept apart from WalStats (plain
// totals) because these are histograms, recorded by the writer thread only
// (LatencyHistogram's single writer) and merged by any reader.
#pragma once

#include <chrono>
#include <cstdint>

#include "metrics/latency_histogram.hpp"

namespace brisk::detail::wal {

struct WalObservations {
  metrics::LatencyHistogram fsync_ns;       // each fdatasync of a segment, nanoseconds
  metrics::LatencyHistogram batch_bytes;    // each batch's write, bytes (not ns)
  metrics::LatencyHistogram batch_records;  // each batch's records (not ns)
};

// Runs op() (an fdatasync) and records how long it took into h.
template <class Op>
auto timed(metrics::LatencyHistogram& h, Op&& op) {
  const auto t0 = std::chrono::steady_clock::now();
  auto result = op();
  h.record(static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()));
  return result;
}

}  // namespace brisk::detail::wal

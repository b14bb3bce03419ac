// Compactor: folds closed segments into a checkpoint, on its own thread so
// the writer never waits for it. The writer tells it when a segment closes;
// once checkpoint_every_segments have closed since the last fold, it folds
// them all. compact_now() folds on the caller's thread (one fold at a time).
//
// A fold that meets damage or an I/O error leaves every file in place: the
// log stays correct, only longer (last_compaction() says why). The writer
// reports disk failures itself.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "wal/checkpoint.hpp"
#include "wal/recovery.hpp"
#include "wal/status.hpp"
#include "wal/wal_env.hpp"

namespace brisk::detail::wal {

class Compactor {
 public:
  // Keys older than key_retention_ns on clock_ns (0: kept for ever; no
  // clock: CLOCK_REALTIME) are dropped by each fold; every 0: folds only on
  // compact_now().
  Compactor(WalEnv& env, std::string dir, std::uint32_t every, std::int64_t key_retention_ns,
            std::function<std::int64_t()> clock_ns);
  ~Compactor();  // stop()
  Compactor(const Compactor&) = delete;
  Compactor& operator=(const Compactor&) = delete;

  // Starts the thread; segments up to `folded_through` are folded already.
  void start(std::uint32_t folded_through);
  // The writer closed segment `closed`.
  void segment_closed(std::uint32_t closed);
  Status compact_now(std::uint32_t through, CompactionResult* result);
  void stop();  // waits for a fold in progress

  // What to keep now (recovery uses it too).
  KeyRetention retention() const;
  std::uint64_t checkpoints() const;  // folds that wrote a checkpoint
  Status last_compaction() const;     // the background fold's outcome

 private:
  void run();

  WalEnv& env_;
  const std::string dir_;
  const std::uint32_t every_;
  const std::int64_t key_retention_ns_;
  const std::function<std::int64_t()> clock_ns_;

  mutable std::mutex fold_mutex_;  // one fold at a time; guards the two below
  std::uint64_t checkpoints_ = 0;
  Status last_compaction_;

  std::mutex mutex_;  // the requests, below
  std::condition_variable wakeup_;
  std::uint32_t fold_through_ = 0;    // requested
  std::uint32_t folded_through_ = 0;  // done (or tried)
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace brisk::detail::wal

// Task ids as the service shows them: "<run>-<engine id>".
//
// The engine's TaskId names a task only within one engine instance: a
// record's generation starts again with the process, so after a restart a
// new task can hold the same TaskId as one accepted before it. The service
// therefore adds its run number: kept in the log directory and raised at
// every start (a random 63-bit one without a log, whose tasks do not
// survive a restart anyway). An id from another run answers 404, never the
// state of the task that now holds the same record.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "brisk/submit.hpp"

namespace brisk::serve {

class TaskIds {
 public:
  explicit TaskIds(std::uint64_t run) : run_(run) {}

  // The next run: one more than the number in <wal_dir>/serve-run (the
  // directory is created if missing), written back (temporary file,
  // fdatasync, rename, directory fsync) before any task runs or any id is
  // answered; without a log directory a random one. Throws
  // std::runtime_error naming the file and the error.
  static std::uint64_t next_run(const std::string& wal_dir);

  std::string text(TaskId id) const { return std::to_string(run_) + "-" + std::to_string(id); }

  enum class Parsed { ours, other_run, invalid };
  // ours: *id is this run's TaskId. other_run: well formed (or a bare
  // number, as ids were before runs) but not this run's. invalid: not an id.
  Parsed parse(std::string_view text, TaskId* id) const;

  std::uint64_t run() const noexcept { return run_; }

 private:
  std::uint64_t run_;
};

}  // namespace brisk::serve

// Checkpoints keep the log from growing without bound.
//
// Once enough segments are closed, the state they describe (with the previous
// checkpoint) is folded exactly as recovery would fold it, and written as
// checkpoint-N.log: the batches not done (with the counts of their finished
// members), the tasks still incomplete (with their latest attempt and
// due time), the dead letters, and the idempotency keys still within
// retention. Segments 1..N and older checkpoints are then removed. Nothing is
// asked of the engine: closed segments never change, so folding them can
// run beside the writer.
//
// Crash safety: the checkpoint is written to a temporary name, synced, then
// renamed into place and the directory synced; only then are the files it
// replaces removed. A crash before the rename leaves the old files in charge
// (the temporary file is ignored and cleaned up); after it, the reader
// ignores files the checkpoint covers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wal/recovery.hpp"
#include "wal/status.hpp"
#include "wal/wal_env.hpp"

namespace brisk::detail::wal {

struct CompactionResult {
  std::uint32_t checkpoint = 0;  // number of the checkpoint written (0: none)
  std::uint64_t incomplete_tasks = 0;
  std::uint64_t dead_letters = 0;
  std::uint64_t keys = 0;
  std::uint64_t bytes_before = 0;  // of the files folded
  std::uint64_t bytes_after = 0;   // of the checkpoint
};

// Writes the state in `builder` as checkpoint-<end.through_segment>.log.
Status write_checkpoint(WalEnv& env, const std::string& dir, const StateBuilder& builder, const CheckpointEnd& end,
                        const KeyRetention& retention, std::uint64_t* bytes_written);

// Folds the checkpoint and the closed segments up to `through_segment` into a
// new checkpoint and removes the files it replaces. Any damage in them stops
// compaction (nothing is removed) with the reader's message.
Status compact(WalEnv& env, const std::string& dir, std::uint32_t through_segment, const KeyRetention& retention,
               CompactionResult* result);

// Removes checkpoint-*.tmp files a crash left behind.
Status remove_temporary_files(WalEnv& env, const std::string& dir);

}  // namespace brisk::detail::wal

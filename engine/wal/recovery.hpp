// Recovery: the state a log describes, folded from its records. Tasks that
// never reached a final state come back with their latest attempt and due
// time, the dead-letter queue comes back, and so do the idempotency keys
// still within their retention window.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "brisk/dead_letter.hpp"
#include "wal/log_reader.hpp"
#include "wal/records.hpp"

namespace brisk::detail::wal {

struct IdempotencyKey {
  std::string key;
  TaskId id = 0;
  std::int64_t accepted_ns = 0;
};

// Keys accepted before now_ns - window_ns are forgotten; window 0 keeps all.
struct KeyRetention {
  std::int64_t window_ns = 0;
  std::int64_t now_ns = 0;
  bool keeps(std::int64_t accepted_ns) const noexcept { return window_ns == 0 || accepted_ns >= now_ns - window_ns; }
};

struct RecoveryOptions {
  RecoveryMode mode = RecoveryMode::tolerate_corrupted_tail_records;
  KeyRetention retention;
};

// A batch (records.hpp, Workflow) not yet done: its image with the counts
// of the members that finished, whether it was sealed, and in `which` the
// callbacks already submitted. Its members still to run are among the
// incomplete tasks (role member).
struct RecoveredBatch {
  TaskImage image;
};

struct RecoveredState {
  std::vector<TaskImage> incomplete;     // to run again, in submission order
  std::vector<RecoveredBatch> batches;   // batches not done, in the order they were opened
  std::vector<DeadLetter> dead_letters;  // in the order they failed
  // Dead letters whose task's submit record was lost to damage (skipped by
  // skip_any_corrupted_record): name and payload unknown, so not restored
  // as letters (a replay could only fail) but reported, in id order.
  std::vector<TaskId> orphan_dead_letters;
  std::vector<IdempotencyKey> idempotency_keys;
  TaskId max_task_id = 0;                // the highest id the log has seen
  std::uint64_t last_sequence = 0;       // LSN of the last record replayed
  ReadReport report;                     // files, damage, skips
};

// Folds records into state; recovery and compaction share it.
class StateBuilder {
 public:
  void apply(Event&& event);

  struct Dead {
    TaskImage image;  // as submitted
    TaskDeadLettered letter;
  };
  std::vector<const TaskImage*> incomplete_in_order() const;
  std::vector<const Dead*> dead_in_order() const;
  // Batches not done whose own image was read (a member's count may come
  // first: streams interleave), in the order they were opened.
  std::vector<const TaskImage*> batches_in_order() const;
  // Checkpoints leave these out: reported once, at the open that found them.
  const std::set<TaskId>& orphan_dead_letters() const noexcept { return orphans_; }
  std::vector<IdempotencyKey> keys(const KeyRetention& retention) const;
  TaskId max_task_id() const noexcept { return max_task_id_; }

  RecoveredState finish(const KeyRetention& retention) const;

 private:
  template <class T>
  struct Ordered {
    std::uint64_t order;
    T value;
  };
  std::uint64_t next_order_ = 0;
  std::unordered_map<TaskId, Ordered<TaskImage>> live_;
  std::unordered_map<TaskId, Ordered<Dead>> dead_;
  // Batches by id; order 0 (and an empty type) until their image is read.
  std::unordered_map<TaskId, Ordered<TaskImage>> batches_;
  std::set<TaskId> orphans_;  // dead-lettered tasks that were not live: see RecoveredState
  std::unordered_map<std::string, IdempotencyKey> keys_;
  TaskId max_task_id_ = 0;
};

// Reads the log in `dir` (or the part `options` names) into `builder`.
// The report lists the files read and all damage; its status is the outcome.
ReadReport read_into(WalEnv& env, const std::string& dir, const ReadOptions& options, StateBuilder* builder);

// Reads the whole log in `dir` and folds it. The result's report lists
// every cut and skip; a non-OK status means the mode refused the log (the
// message names the file and offset) and `out` must not be used.
Status recover(WalEnv& env, const std::string& dir, const RecoveryOptions& options, RecoveredState* out);

}  // namespace brisk::detail::wal

// Workflows: batches and chains over named tasks (include/brisk/workflow.hpp).
//
// A task that belongs to a batch or is a chain step carries a link (its
// record's `workflow`, an index into this table) from its submission to its
// final state. TaskOutcomes reports that final state here (finished()),
// which counts it into its batch and, once a sealed batch has nothing
// pending, submits its callbacks; for a chain step that succeeded, it submits
// the next step with the step's result as payload. Those submissions go
// through the timer (due now), so full rings never refuse them; a refusal
// that remains (no task record free, shutting down, a failed log) turns the
// call into a dead letter instead of dropping it.
//
// One mutex: only tasks in workflows come here, once at submit and once at
// the end. In memory: batches and chains do not survive a restart yet.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "brisk/submit.hpp"
#include "brisk/task.hpp"
#include "brisk/task_status.hpp"
#include "brisk/workflow.hpp"

namespace brisk::detail {

class Workflows {
 public:
  // Submits a workflow's next task: `link` is its own link (0: none).
  using Submit = std::function<SubmitResult(const TaskCall& call, const TaskOptions& options, std::uint32_t link)>;
  // Keeps a call that could not be submitted, as a dead letter.
  using Park = std::function<void(const TaskCall& call, std::string reason)>;

  Workflows(Submit submit, Park park) : submit_(std::move(submit)), park_(std::move(park)) {}

  BatchId open_batch(BatchOptions options);
  // False for an unknown or already sealed batch.
  bool seal_batch(BatchId id);
  std::optional<BatchInfo> batch(BatchId id) const;

  // A task joins `batch` (0: none) and/or is a chain step with `rest` still
  // to run after it. Returns its link (0: neither), or nullopt with *why
  // when the batch cannot take it (unknown, complete).
  std::optional<std::uint32_t> link(BatchId batch, std::vector<TaskCall> rest, const TaskOptions& options,
                                    std::string_view* why);
  // The task that took `link` was refused after all: as if it never joined.
  void unlink(std::uint32_t link);
  // The task reached its final state.
  void finished(std::uint32_t link, TaskState state, std::string&& result);
  // The batch a link belongs to (0: none).
  BatchId batch_of(std::uint32_t link) const;

 private:
  struct Batch {
    BatchOptions options;
    BatchInfo info;
  };
  struct Link {
    BatchId batch = 0;
    std::vector<TaskCall> rest;  // chain steps after this one
    Priority priority = priority::normal;
    Durability durability = Durability::engine_default;
  };
  // What to submit once the lock is released.
  struct Followup {
    TaskCall call;
    TaskOptions options;
    std::vector<TaskCall> rest;
  };

  void count_finish(Batch& batch, TaskState state);
  // A sealed batch with nothing pending: its callbacks, and it is forgotten.
  void complete(BatchId id, std::vector<Followup>* out);
  void run(std::vector<Followup>&& followups);

  const Submit submit_;
  const Park park_;
  mutable std::mutex mutex_;
  BatchId next_batch_ = 1;
  std::unordered_map<BatchId, Batch> batches_;
  std::vector<Link> links_{Link{}};  // [0] unused: link 0 means none
  std::vector<std::uint32_t> free_links_;
};

}  // namespace brisk::detail

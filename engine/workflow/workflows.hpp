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
// Durable batches and chains: a link's place (wal::Workflow) is logged in
// its task's submit record (log_submit), a durable batch as an image of its
// own (opened, sealed, done: wal/records.hpp), so recovery rebuilds the
// batches and links (workflow_restore.cpp). What makes a step happen once
// across a crash is its idempotency key: "brisk.batch/<id>/<which>" for a
// callback, "brisk.chain/<durable id of the step before>" for a chain step;
// each is logged before the completion of the task that caused it.
//
// Locks: a task joins its batch under the mutex (the batch is found by id)
// but runs and ends without it: a batch's counts are atomics in its Batch
// record, which the member's link points at, and the member whose end
// leaves a sealed batch with nothing pending is decided by one CAS on the
// batch's word (pending * 2 + sealed), so exactly one thread runs its
// completion. Links sit in blocks that never move, so a link's holder
// reads it without the lock, and a finished link goes back on a lock-free
// free list. The mutex stays for open, seal, completion, restore and the
// chain steps' new links.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "brisk/submit.hpp"
#include "brisk/task.hpp"
#include "brisk/task_status.hpp"
#include "platform/cache_line.hpp"
#include "brisk/workflow.hpp"
#include "durability/durable_log.hpp"
#include "task/task_record.hpp"
#include "wal/records.hpp"

namespace brisk::detail {

class Workflows {
 public:
  // Submits a workflow's next task: `link` is its own link (0: none).
  using Submit = std::function<SubmitResult(const TaskCall& call, const TaskOptions& options, std::uint32_t link)>;
  // Keeps a call that could not be submitted, as a dead letter.
  using Park = std::function<void(const TaskCall& call, std::string reason)>;

  // log_configured: the engine has a log (EngineConfig::durability.wal_dir);
  // durable_by_default: its tasks are durable unless they say otherwise.
  Workflows(Submit submit, Park park, bool log_configured, bool durable_by_default)
      : submit_(std::move(submit)),
        park_(std::move(park)),
        log_configured_(log_configured),
        durable_by_default_(durable_by_default),
        // Memory batches are never logged: their ids keep clear of the
        // log's (which number durable batches) by the top bit.
        next_memory_batch_(log_configured ? (BatchId{1} << 63) + 1 : 1) {
    // The free-link head is CASed by every thread that frees a link: the
    // structure's last line, its own.
    BRISK_ASSERT_LAST_LINE_ALONE(Workflows, free_head_);
  }

  // The log, once start() opened it (nullptr: none).
  void attach_log(DurableLog* log) noexcept { log_ = log; }

  // Throws std::invalid_argument for a durable batch that cannot be (no
  // log, or not started yet, or callbacks over the log's record limit);
  // 0 when the log has failed.
  BatchId open_batch(BatchOptions options);
  // False for an unknown or already sealed batch, or when a durable batch's
  // seal could not be logged. A durable seal is on disk as the fsync policy
  // promises when this returns.
  bool seal_batch(BatchId id);
  std::optional<BatchInfo> batch(BatchId id) const;

  // A task joins `batch` (0: none) and/or is a chain step with `rest` still
  // to run after it. Returns its link (0: neither), or nullopt with *why
  // when the batch cannot take it (unknown, complete, durable and the task
  // is not).
  std::optional<std::uint32_t> link(BatchId batch, std::vector<TaskCall> rest, const TaskOptions& options,
                                    std::string_view* why);
  // Logs a linked durable task's submit record with its place, and keeps its
  // durable id (its chain's next step is keyed by it). The ticket, 0: failed.
  std::uint64_t log_submit(std::uint32_t link, TaskRecord& record, std::string_view type_name, std::string_view key,
                           std::uint64_t same_stream_as);
  // The task that took `link` was refused after all: as if it never joined.
  void unlink(std::uint32_t link);
  // The task reached its final state.
  void finished(std::uint32_t link, TaskState state, std::string&& result);
  // The batch a link belongs to (0: none).
  BatchId batch_of(std::uint32_t link) const;
  // For a chain step that failed for good: " (chain stopped; not run: b, c)",
  // the steps after it, to add to its dead letter's message; "" for none.
  std::string stopped_chain(std::uint32_t link) const;

  // ---- recovery (workflow_restore.cpp), at start(), before any task runs ----
  // A batch the log holds (not done).
  void restore(const wal::TaskImage& batch);
  // A task the log brings back: its link (0: none) for its place.
  std::uint32_t relink(const wal::TaskImage& task);
  // Once tasks may run: sealed restored batches with nothing pending
  // complete (their callbacks not yet submitted are, and they are done).
  void resume();

  // ---- metrics ----
  std::uint64_t open_batches() const;
  std::uint64_t callbacks_submitted() const noexcept { return callbacks_submitted_.load(std::memory_order_relaxed); }

 private:
  struct Batch {
    // Not reached by members joining and leaving: the mutex guards these.
    BatchOptions options;
    BatchId id = 0;
    bool durable = false;
    std::uint8_t callbacks_logged = 0;  // restored: wal::Workflow::kOnSuccess | kOnComplete already submitted
    // Members pending * 2 + 1 once sealed; kCompleted once one thread
    // claimed its completion (no member may join after that): the last
    // member's leave, or the seal of an idle batch, in the same CAS. Every
    // change is an acq_rel RMW, so the claimer reads it through the release
    // sequence of every member's leave and sees every count below.
    std::atomic<std::uint64_t> word{0};
    // Written before the member's decrement of `word` (relaxed: ordered by it).
    std::atomic<std::uint64_t> total{0}, succeeded{0}, dead_lettered{0}, cancelled{0};
    BatchInfo info() const;
  };
  static constexpr std::uint64_t kCompleted = ~std::uint64_t{0};
  struct Link {
    BatchId batch = 0;     // the batch it counts into (0: none)
    Batch* state = nullptr;  // that batch's record: stays until the link's task leaves it
    wal::Workflow place;   // what its submit record logs: role, batch, calls = the chain steps after it
    Priority priority = priority::normal;
    Durability durability = Durability::engine_default;
    std::uint64_t durable_id = 0;  // set by log_submit
    std::uint32_t next_free = 0;   // on the free list: the link below it
  };
  // What to submit once the lock is released.
  struct Followup {
    TaskCall call;
    TaskOptions options;
    wal::Workflow place;  // its link's, when present()
    bool callback = false;  // a batch's (counted in callbacks_submitted)
  };

  bool durable(Durability d) const noexcept {
    return d == Durability::durable || (d == Durability::engine_default && durable_by_default_);
  }
  // Under the mutex.
  std::uint32_t new_link(Link link);
  Link& at(std::uint32_t index) const noexcept { return blocks_[index >> kBlockBits][index & (kBlockSize - 1)]; }
  // Without the mutex: the link's task is done with it.
  void free_link(std::uint32_t index) noexcept;
  // A member joins (under the mutex): false once the batch's completion was claimed.
  static bool join(Batch& batch) noexcept;
  // A member leaves, counted as `state` (uncounted: refused after joining).
  // True if it was the last of a sealed batch and claimed its completion.
  static bool leave(Batch& batch, std::optional<TaskState> state) noexcept;
  // Seals it; true if nothing was pending: then this caller claimed the completion.
  static bool seal(Batch& batch) noexcept;
  // A restored batch sealed with nothing pending: true for the one caller that claims its completion.
  static bool claim_completion(Batch& batch) noexcept;
  // A batch whose completion this thread claimed: its callbacks are
  // submitted, and it is forgotten; returns its id if it is durable (its
  // done record follows the callbacks), else 0. Takes the mutex.
  BatchId finish_batch(BatchId id);
  // The same with the mutex held; the callbacks into *out.
  BatchId complete(BatchId id, std::vector<Followup>* out);
  // Submits followups; false if one was refused (and parked instead).
  bool run(std::vector<Followup>&& followups);
  // After run(): a durable batch whose callbacks were all submitted is done.
  void done(BatchId durable_batch, bool all_submitted);

  const Submit submit_;
  const Park park_;
  const bool log_configured_;
  const bool durable_by_default_;
  DurableLog* log_ = nullptr;
  mutable std::mutex mutex_;
  BatchId next_memory_batch_;
  std::unordered_map<BatchId, std::unique_ptr<Batch>> batches_;
  std::uint32_t links_used_ = 1;  // under the mutex; link 0 means none
  // Metrics only: relaxed.
  std::atomic<std::uint64_t> callbacks_submitted_{0};
  // Links in blocks allocated under the mutex and never moved: a link is
  // read by its task's holder without the lock (what it was set to before
  // the task was published). Read by every member that runs or ends: on
  // lines of their own, apart from the mutex and the free list's head,
  // which other threads write all the time.
  static constexpr unsigned kBlockBits = 12;
  static constexpr std::uint32_t kBlockSize = 1u << kBlockBits;
  static constexpr std::size_t kMaxBlocks = 1u << 12;  // 16M links
  alignas(kCacheLine) std::unique_ptr<Link[]> blocks_[kMaxBlocks];
  // Free links, a stack through Link::next_free (0: empty). Pushed by any
  // thread (CAS, release: the pusher's reset of the link and next_free are
  // seen by the popper), popped under the mutex only (acquire): one popper
  // at a time, so the head never returns to a value it had (no ABA).
  struct alignas(kCacheLine) FreeHead {
    std::atomic<std::uint32_t> index{0};
  };
  FreeHead free_head_;
};

}  // namespace brisk::detail

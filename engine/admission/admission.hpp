// Admission: the ways work enters the engine (post, bulk post, a named
// submit, a chain) and the answer each refusal gets, counted.
//
// A named submission: its input checks (submit_checks.hpp, a pure
// function), then what it takes, in order, each undone on one path if a
// later step refuses: a task record, its idempotency key, its batch or
// chain link, its turn at the type's rate or its delay (the timer), its
// ring position (claimed before the log: a task the rings refuse never
// reaches the log), its submit record in the log; then it is published to
// the ring or handed to the timer. From there its run is TaskOutcomes'.
//
// Everything it uses is handed to it; the log once start() has opened it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>
#include <vector>

#include "brisk/config.hpp"
#include "brisk/detail/job.hpp"
#include "brisk/submit.hpp"
#include "brisk/task.hpp"
#include "delay/delay_scheduler.hpp"
#include "durability/durable_log.hpp"
#include "idempotency/idempotency_index.hpp"
#include "outcome/task_outcomes.hpp"
#include "platform/cache_line.hpp"
#include "platform/tick_clock.hpp"
#include "registry/task_registry.hpp"
#include "shard/shard_set.hpp"
#include "task/payload_arg.hpp"
#include "task/task_table.hpp"
#include "workflow/workflows.hpp"

namespace brisk::detail {

class Admission {
 public:
  // engine: the engine's identity, to know its own workers (this_thread_worker()).
  Admission(const void* engine, const EngineConfig& config, const Clock& clock, const TickClock& ticks,
            TaskRegistry& registry, TaskTable& tasks, IdempotencyIndex& idempotency, ShardSet& shards,
            DelayScheduler& delays, TaskOutcomes& outcomes, Workflows& workflows)
      : engine_(engine),
        config_(config),
        clock_(clock),
        ticks_(ticks),
        registry_(registry),
        tasks_(tasks),
        idempotency_(idempotency),
        shards_(shards),
        delays_(delays),
        outcomes_(outcomes),
        workflows_(workflows) {
    // accepting_ is read by every submission; the refusal counters are
    // written by refused ones: apart, and apart from the references above.
    BRISK_ASSERT_LINES_APART(Admission, log_, accepting_);
    BRISK_ASSERT_LINES_APART(Admission, accepting_, rejected_full_);
  }

  // The log, once start() has opened it (null: none, or a failed start()).
  void attach_log(DurableLog* log) noexcept { log_ = log; }
  // From now on everything is refused rejected_shutdown. Relaxed: see
  // EngineCore::stop() for why a submission that races with it still
  // either is refused or runs.
  void stop_accepting() noexcept { accepting_.store(false, std::memory_order_relaxed); }

  SubmitStatus post_job(Job&& job, Priority priority);
  BulkResult post_jobs(Job* jobs, std::size_t count, Priority priority);
  // same_stream_as: a durable id whose log stream the submit record must go
  // to (a replayed dead letter's; see DurableLog::submitted), 0: the thread's.
  // link: the task's workflow link when a workflow submits it (Workflows), 0: none.
  SubmitResult submit(std::int64_t type, PayloadArg payload, const TaskOptions& options, bool holds_credit = false,
                      std::uint64_t same_stream_as = 0, std::uint32_t link = 0);
  SubmitResult submit_chain(std::vector<TaskCall> steps, const TaskOptions& options);

  // Refusals so far, by answer (relaxed reads: totals for reporting).
  struct Refusals {
    std::uint64_t full = 0, shutdown = 0, invalid = 0, durability_failed = 0;
    // Tasks' posts that went to their worker's overflow, and those refused
    // (also in `full`) because it was full too.
    std::uint64_t overflowed = 0, overflow_refused = 0;
  };
  Refusals refusals() const noexcept {
    return {rejected_full_.load(std::memory_order_relaxed),     rejected_shutdown_.load(std::memory_order_relaxed),
            rejected_invalid_.load(std::memory_order_relaxed),  durability_failures_.load(std::memory_order_relaxed),
            overflowed_.load(std::memory_order_relaxed),        overflow_refused_.load(std::memory_order_relaxed)};
  }

 private:
  // The calling worker's own shard, or ShardSet::kNoHome off this engine's workers.
  std::size_t home_shard() const noexcept;
  // A position in the calling worker's task overflow once its task's lane
  // is full everywhere (home: home_shard()); none for outside threads or
  // when the overflow is full too. Counts either way.
  ShardSet::Slot claim_overflow(std::size_t home) noexcept;
  SubmitResult refuse(SubmitStatus status, std::string_view reason) noexcept;
  SubmitResult log_failed() noexcept;

  const void* const engine_;
  const EngineConfig& config_;
  const Clock& clock_;
  const TickClock& ticks_;
  TaskRegistry& registry_;
  TaskTable& tasks_;
  IdempotencyIndex& idempotency_;
  ShardSet& shards_;
  DelayScheduler& delays_;
  TaskOutcomes& outcomes_;
  Workflows& workflows_;
  DurableLog* log_ = nullptr;
  // Read on every submission: relaxed is enough (see stop_accepting()).
  alignas(kCacheLine) std::atomic<bool> accepting_{true};
  // Cold counters (refusals), shared: relaxed increments.
  alignas(kCacheLine) std::atomic<std::uint64_t> rejected_full_{0};
  std::atomic<std::uint64_t> rejected_shutdown_{0};
  std::atomic<std::uint64_t> rejected_invalid_{0};
  std::atomic<std::uint64_t> durability_failures_{0};
  std::atomic<std::uint64_t> overflowed_{0};
  std::atomic<std::uint64_t> overflow_refused_{0};
};

}  // namespace brisk::detail

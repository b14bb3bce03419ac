// EngineCore: the engine's state, its lifecycle and the submit paths;
// brisk::Engine is a thin handle on it (engine.cpp).
//
// Data flow: post()/submit() -> ShardSet (the ring of the task's priority
// lane in the producer's home shard; other shards when full) ->
// IdleWorkers::notify_work() -> a Worker takes it (own shard first, else
// steals) -> runs it; a named task's run and everything after it is
// TaskOutcomes' (engine/outcome).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "brisk/clock.hpp"
#include "brisk/config.hpp"
#include "brisk/dead_letter.hpp"
#include "brisk/detail/job.hpp"
#include "brisk/stats.hpp"
#include "brisk/submit.hpp"
#include "brisk/task.hpp"
#include "brisk/trace_control.hpp"
#include "admission/admission.hpp"
#include "delay/delay_scheduler.hpp"
#include "dlq/dead_letter_queue.hpp"
#include "durability/dir_lock.hpp"
#include "durability/durable_log.hpp"
#include "flow/credit_pool.hpp"
#include "http/metrics_server.hpp"
#include "metrics/metrics_sources.hpp"
#include "observe/engine_readout.hpp"
#include "observe/trace_session.hpp"
#include "idempotency/idempotency_index.hpp"
#include "park/idle_workers.hpp"
#include "platform/cache_line.hpp"
#include "platform/tick_clock.hpp"
#include "registry/task_registry.hpp"
#include "shard/lane_schedule.hpp"
#include "outcome/task_outcomes.hpp"
#include "shard/shard.hpp"
#include "task/payload_arg.hpp"
#include "shard/shard_set.hpp"
#include "task/task_table.hpp"
#include "trace/trace_switch.hpp"
#include "watchdog/hard_limit_watchdog.hpp"
#include "worker/this_thread_worker.hpp"
#include "worker/worker.hpp"
#include "worker/worker_ports.hpp"
#include "worker/worker_set.hpp"
#include "workflow/workflows.hpp"

namespace brisk::detail {

class EngineCore {
 public:
  // Workers started over the engine's life to replace ones stuck in a
  // handler past its hard limit; beyond it, a stuck worker is not replaced.
  static constexpr std::size_t kMaxReplacementWorkers = 64;

  explicit EngineCore(EngineConfig config);  // throws ConfigError
  ~EngineCore();

  std::uint32_t register_handler(std::string name, Handler handler, const TaskTypeOptions& options);
  void start();
  SubmitStatus post_job(Job&& job, Priority priority) { return admission_.post_job(std::move(job), priority); }
  BulkResult post_jobs(Job* jobs, std::size_t count, Priority priority) {
    return admission_.post_jobs(jobs, count, priority);
  }
  // holds_credit: a Producer's submission (its credit goes back when the task ends).
  SubmitResult submit(std::int64_t type, PayloadArg payload, const TaskOptions& options, bool holds_credit = false) {
    return admission_.submit(type, std::move(payload), options, holds_credit);
  }
  BatchId open_batch(BatchOptions options) { return workflows_.open_batch(std::move(options)); }
  bool seal_batch(BatchId id) { return workflows_.seal_batch(id); }
  std::optional<BatchInfo> batch(BatchId id) const { return workflows_.batch(id); }
  SubmitResult submit_chain(std::vector<TaskCall> steps, const TaskOptions& options) {
    return admission_.submit_chain(std::move(steps), options);
  }
  std::int64_t find_type(std::string_view name) const noexcept { return registry_.find(name); }
  bool cancel(TaskId id) { return outcomes_.cancel(id); }
  TaskInfo status(TaskId id) const { return queries_.status(id); }
  // Throws std::logic_error on one of this engine's workers (it would block it).
  TaskInfo wait(TaskId id, std::chrono::nanoseconds timeout) {
    if (this_thread_worker_of(this) != nullptr) {
      throw std::logic_error("brisk::Engine::wait() called from a task: it would block a worker; use on_finished()");
    }
    return queries_.wait(id, timeout);
  }
  void on_finished(TaskId id, std::function<void(const TaskInfo&)> callback) {
    queries_.on_finished(id, std::move(callback));
  }
  void drain();
  // Throws std::logic_error when called from a task (a worker thread).
  void shutdown();
  EngineStats stats() const { return readout_.stats(); }
  std::string prometheus_text() const {
    std::string text = readout_.prometheus_text();
    metrics_sources_.render(text);
    return text;
  }
  metrics::MetricsSources& metrics_sources() noexcept { return metrics_sources_; }
  HealthReport health() { return readout_.health(); }
  std::uint16_t metrics_port() const noexcept { return metrics_server_ ? metrics_server_->port() : 0; }
  // Drains every worker's trace ring and writes Chrome trace JSON: at most
  // max_events events, the earliest (*left_out, when given, says how many
  // were left out).
  std::size_t write_trace(std::ostream& out, std::size_t max_events = SIZE_MAX, std::size_t* left_out = nullptr) {
    return trace_session_.write(out, max_events, left_out);
  }
  TraceStart start_trace(const TraceLimits& limits);
  void stop_trace() noexcept { trace_switch_.turn_off(); }
  bool tracing() const noexcept { return trace_switch_.on(); }
  // The engine handle and producers note refusals in a trace session.
  trace::TraceSwitch& trace_switch() noexcept { return trace_switch_; }
  std::string snapshot_json() const { return readout_.snapshot_json(); }
  bool is_durable(const SubmitResult& r) const noexcept;
  bool wait_durable(const SubmitResult& r) const;
  const RecoveryReport& recovery_report() const noexcept { return recovery_report_; }
  std::vector<DeadLetter> dead_letters() const { return dead_letters_.list(); }
  std::size_t dead_letter_count() const { return dead_letters_.size(); }
  SubmitResult replay_dead_letter(TaskId id);
  // Logged (and on disk as the fsync policy promises) before it answers.
  std::size_t purge_dead_letters() { return outcomes_.endings().purge_dead_letters(); }
  const EngineConfig& config() const noexcept { return config_; }

  // ---- for producers ----
  CreditPool& credits() noexcept { return credits_; }
  std::int64_t now_ns() const noexcept { return clock_->now_ns(); }
  // Stamps for jobs (submit, start, end): cheaper than now_ns().
  const TickClock& ticks() const noexcept { return ticks_; }
  void count_backpressure() noexcept { rejected_backpressure_.fetch_add(1, std::memory_order_relaxed); }
  void add_producer_blocked_ns(std::int64_t ns) noexcept {
    producer_blocked_ns_.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
  }


 private:
  enum class Phase : std::uint8_t { created, running, stopped };

  // What each worker (and each replacement) is handed.
  WorkerPorts worker_ports() noexcept;
  // start(): opens the WAL and brings back keys, dead letters and incomplete tasks.
  void recover();
  void recover_locked();  // recover() once the directory is locked
  // The watchdog's check: attempts past their type's hard limit are retried
  // in a new record and their worker is replaced.
  void enforce_hard_limits();
  void run_leftovers();
  // shutdown() without the from-a-task check: the destructor's path, so that
  // an engine never started (or already stopped) may still be destroyed on a
  // worker thread of another engine.
  void stop();
  // The metrics server's /debug/brisk/* callbacks.
  http::DebugHooks debug_hooks();

  const EngineConfig config_;
  Clock* const clock_;
  const TickClock ticks_;  // job stamps: the TSC where that is safe
  const LaneSchedule lane_schedule_;
  WorkerSet workers_;
  IdleWorkers idle_;
  TaskRegistry registry_;
  TaskTable tasks_;
  DeadLetterQueue dead_letters_;
  CreditPool credits_;
  IdempotencyIndex idempotency_;
  ShardSet shards_;
  DelayScheduler delays_;  // its thread calls outcomes_.make_ready
  FinishedTasks finished_;
  TaskStatusQueries queries_;
  Workflows workflows_;
  TaskOutcomes outcomes_;
  Admission admission_;  // post, submit, chains: the refusals' answers and counts
  metrics::MetricsSources metrics_sources_;  // before metrics_server_, which renders them
  std::int64_t started_ns_ = 0;
  std::unique_ptr<HardLimitWatchdog> watchdog_;  // only with a hard_timeout somewhere
  std::unique_ptr<DirLock> wal_lock_;  // before wal_: released after the log is closed
  std::unique_ptr<DurableLog> wal_;  // null without durability.wal_dir
  RecoveryReport recovery_report_;
  trace::TraceSwitch trace_switch_;
  TraceSession trace_session_{workers_, trace_switch_};
  // The read side. Before metrics_server_, which calls it; the counters
  // below it binds to are only read once the engine runs.
  EngineReadout readout_{ReadoutSources{.config = config_,
                                        .clock = *clock_,
                                        .shards = shards_,
                                        .workers = workers_,
                                        .registry = registry_,
                                        .tasks = tasks_,
                                        .admission = admission_,
                                        .credits = credits_,
                                        .delays = delays_,
                                        .dead_letters = dead_letters_,
                                        .finished = finished_,
                                        .workflows = workflows_,
                                        .trace_switch = trace_switch_,
                                        .log = wal_,
                                        .started_ns = started_ns_,
                                        .rejected_backpressure = rejected_backpressure_,
                                        .producer_blocked_ns = producer_blocked_ns_}};
  std::unique_ptr<http::MetricsServer> metrics_server_;  // last: calls stats()

  std::mutex lifecycle_mutex_;  // start/shutdown/register only
  Phase phase_ = Phase::created;
  // Workers exit once this is set and no work is visible (release in
  // stop(), acquire in the worker: they see everything before it).
  alignas(kCacheLine) std::atomic<bool> stopping_{false};
  // Producers' refusals and waits (Producer), shared: relaxed increments.
  // Off stopping_'s line, which every worker reads as it looks for work.
  alignas(kCacheLine) std::atomic<std::uint64_t> rejected_backpressure_{0};
  std::atomic<std::uint64_t> producer_blocked_ns_{0};
};

}  // namespace brisk::detail

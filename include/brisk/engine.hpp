// brisk::Engine: the task engine.
//
//   brisk::Engine engine;                       // one worker per CPU, pinned
//   engine.register_task("email", handler);     // named, serialisable tasks
//   engine.start();
//   engine.post([] { ... });                    // in-memory closure, fastest path
//   engine.submit("email", payload);            // named task with a byte payload
//   engine.drain();                             // wait for accepted work
//
// Thread-safety: post/post_bulk/submit/cancel/stats may be called from any
// thread, including from inside tasks. register_task must precede start().
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <cstddef>
#include <iosfwd>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "brisk/config.hpp"
#include "brisk/dead_letter.hpp"
#include "brisk/health.hpp"
#include "brisk/detail/job.hpp"
#include "brisk/producer.hpp"
#include "brisk/stats.hpp"
#include "brisk/submit.hpp"
#include "brisk/task.hpp"
#include "brisk/task_status.hpp"
#include "brisk/trace_control.hpp"
#include "brisk/workflow.hpp"

namespace brisk {

namespace detail {
class EngineCore;
}

class Engine {
 public:
  // Validates config (throws ConfigError with the field and the reason).
  // Workers are not started until start().
  explicit Engine(EngineConfig config = {});
  // Always safe: shuts down (drains accepted work, joins workers) if needed.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Registers a handler for named tasks. Throws ConfigError for an empty or
  // duplicate name, invalid options, or when called after start().
  // The handler may return Outcome, or void (success unless it throws).
  template <class F>
  TaskType register_task(std::string name, F&& handler, TaskTypeOptions options = {}) {
    if constexpr (std::is_same_v<std::invoke_result_t<F&, TaskContext&>, void>) {
      return register_handler(std::move(name),
                              [h = std::forward<F>(handler)](TaskContext& ctx) mutable {
                                h(ctx);
                                return Outcome::success();
                              },
                              options);
    } else {
      return register_handler(std::move(name), Handler(std::forward<F>(handler)), options);
    }
  }

  // Starts the worker threads. Tasks accepted before start() run after it.
  // With a write-ahead log, first locks its directory and recovers it.
  // Throws RecoveryError if the recovery mode refuses the log, if the
  // directory cannot be created or opened, or if another engine (in this or
  // another process) holds it: one engine per durability.wal_dir. A start()
  // that throws leaves the directory unlocked.
  void start();

  // ---- in-memory closures: no allocation for callables up to 32 bytes ----

  template <class F>
  SubmitStatus post(F&& callable, Priority priority = priority::normal) {
    return post_job(detail::Job(std::forward<F>(callable)), priority);
  }

  // Submits callables [first, last) in batches (one ring claim per batch).
  // Stops at the first refusal; BulkResult says how many were accepted.
  template <class It>
  BulkResult post_bulk(It first, It last, Priority priority = priority::normal) {
    constexpr std::size_t kBatch = 64;
    std::array<detail::Job, kBatch> batch;
    BulkResult total;
    while (first != last) {
      std::size_t n = 0;
      for (; n < kBatch && first != last; ++first) batch[n++] = detail::Job(std::move(*first));
      const BulkResult part = post_jobs(batch.data(), n, priority);
      total.accepted += part.accepted;
      if (part.accepted != n) {
        total.first_refusal = part.first_refusal;
        for (auto& job : batch) job.reset();
        break;
      }
    }
    return total;
  }

  // A submitting handle with credits (backpressure); one per producer thread.
  Producer make_producer();

  // ---- named tasks ----

  SubmitResult submit(std::string_view task_name, std::string payload, TaskOptions options = {});
  SubmitResult submit(TaskType type, std::string payload, TaskOptions options = {});
  // The same, copying bytes the caller keeps into the task record's own
  // buffer: a released record keeps its buffer (up to 1 KiB), so a stream
  // of small payloads allocates nothing, where a std::string built for the
  // call allocates once it outgrows its inline 15 bytes.
  SubmitResult submit(TaskType type, std::string_view payload, TaskOptions options = {});
  // A null `payload` is answered `invalid`.
  SubmitResult submit(TaskType type, const char* payload, TaskOptions options = {});

  // ---- durability (EngineConfig::durability) ----

  // True once a durable submission is on disk as its fsync policy promises.
  bool is_durable(const SubmitResult& result) const noexcept;
  // Blocks until it is; false if it was not durable or the log failed first
  // (disk full, I/O error): then the task may be lost in a crash.
  bool wait_durable(const SubmitResult& result) const;
  // What start() recovered from the log.
  const RecoveryReport& recovery_report() const noexcept;

  // Cancels a task that has not started (queued, delayed or waiting for a
  // retry). Returns false if it is unknown, running or already finished.
  // A durable task's cancellation is on disk (as the fsync policy promises)
  // before this returns true: it never runs again after a restart.
  bool cancel(TaskId id);

  // ---- workflows (workflow.hpp) ----

  // A new batch: tasks join it with TaskOptions::batch; its callbacks are
  // submitted once it is sealed and none of its tasks is pending. A durable
  // batch (BatchOptions::durability) is logged; it throws
  // std::invalid_argument without a log or before start(), and answers 0
  // once the log has failed.
  BatchId open_batch(BatchOptions options = {});
  // No more tasks from outside (its own tasks may still add). False for an
  // unknown, already sealed or complete batch, or a durable one whose seal
  // could not be logged; a durable seal is on disk as the fsync policy
  // promises when this answers true.
  bool seal_batch(BatchId id);
  // Its counts; nullopt once complete (the callbacks carry the final counts).
  std::optional<BatchInfo> batch(BatchId id) const;
  // Submits steps[0]; when a step succeeds the next one is submitted with
  // its result as payload; a failure stops the chain (the step is
  // dead-lettered as usual). Answers for the first step.
  SubmitResult submit_chain(std::vector<TaskCall> steps, TaskOptions options = {});

  // ---- what became of a named task (task_status.hpp) ----

  // Its state, attempts, last error, times and result; `unknown` for an id
  // this engine never accepted or no longer remembers, never another task's.
  TaskInfo status(TaskId id) const;
  // Blocks until the task is final (succeeded, dead-lettered, cancelled) or
  // `timeout` passed, and returns its state then. Throws std::logic_error
  // when called from a task: use on_finished() there.
  TaskInfo wait(TaskId id, std::chrono::nanoseconds timeout);
  // Calls `callback` once with the task's final state: at once if it is
  // final or unknown, else on the thread that finishes it (a worker: keep
  // it short). Needs task_status.max_finished > 0.
  void on_finished(TaskId id, std::function<void(const TaskInfo&)> callback);

  // Returns when every task accepted so far that is due has run to a final
  // outcome or is waiting on a timer (a delay, a retry backoff, a rate limit).
  // Throws std::logic_error when called from inside a task of a started engine.
  void drain();

  // Stops accepting, drains, joins the workers. Idempotent.
  // Must not be called from inside a task: it would wait for that task
  // itself. It then throws std::logic_error("brisk::Engine::shutdown()
  // called from a task") into the handler and changes nothing: the engine
  // keeps accepting and running work. (drain() throws the same way.)
  void shutdown();

  // ---- dead-letter queue ----

  std::vector<DeadLetter> dead_letters() const;
  std::size_t dead_letter_count() const;
  // Resubmits a dead letter as a fresh task (attempt 1) and removes it from
  // the queue; if the resubmission is refused the letter stays.
  SubmitResult replay_dead_letter(TaskId id);
  std::size_t purge_dead_letters();

  // ---- observability ----

  EngineStats stats() const;
  // Every metric in Prometheus text exposition format (version 0.0.4).
  std::string prometheus_text() const;
  // Adds a component's own metrics (Prometheus text, its own metric names)
  // to prometheus_text() and /metrics: brisk::cluster's worker adds its
  // fetch credits, acks and NATS connection state this way. The source runs
  // on the scraping thread, must not block for long, and must not add or
  // remove sources. Returns an id for remove_metrics_source().
  std::uint64_t add_metrics_source(std::function<std::string()> source);
  // Once it returns the source is not running and never runs again.
  void remove_metrics_source(std::uint64_t id);
  // Judges health against EngineConfig::observability.health, over the
  // window since the previous call.
  HealthReport health();
  // The port /metrics and /healthz are served on (0 when not serving).
  std::uint16_t metrics_port() const noexcept;
  // Drains the trace rings (observability.trace_events_per_worker > 0) into
  // Chrome trace-event JSON (opens in ui.perfetto.dev). Returns events written.
  std::size_t write_trace(std::ostream& out);
  // Switches tracing on while the engine runs, until `limits` or
  // stop_trace(); write_trace() then drains what was caught. Needs trace
  // rings (observability.trace_events_per_worker > 0); with
  // trace_from_start tracing is already on. Starting a session discards
  // events left in the rings from before it.
  TraceStart start_trace(const TraceLimits& limits);
  void stop_trace() noexcept;
  bool tracing() const noexcept;
  // Everything a profiler reads, as one JSON document taken at one moment:
  // stats, per-type counters, latency histograms (buckets), lane depths,
  // credits, the log's batch sizes and fsync latencies, the effective
  // configuration, and per worker its scheduler delay and involuntary
  // context switches (docs/profiler.md lists the fields).
  std::string snapshot_json() const;

  const EngineConfig& config() const noexcept;

 private:
  TaskType register_handler(std::string name, Handler handler, const TaskTypeOptions& options);
  SubmitStatus post_job(detail::Job&& job, Priority priority);
  BulkResult post_jobs(detail::Job* jobs, std::size_t count, Priority priority);

  std::unique_ptr<detail::EngineCore> core_;
};

}  // namespace brisk

#include "core/engine_core.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <sstream>
#include <thread>

#include "core/config_validation.hpp"
#include "restart/log_replay.hpp"
#include "shard/job_fields.hpp"

namespace brisk::detail {

namespace {

void wait_a_little(unsigned& rounds) {
  if (++rounds < 64) {
    std::this_thread::yield();
  } else {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

}  // namespace

EngineCore::EngineCore(EngineConfig config)
    : config_(validated_config(std::move(config))),
      clock_(config_.clock != nullptr ? config_.clock : &SteadyClock::instance()),
      ticks_(*clock_),
      lane_schedule_(config_.lane_weights),
      workers_(config_.workers + kMaxReplacementWorkers),
      tasks_(config_.max_named_tasks),
      dead_letters_(config_.dead_letter_capacity),
      credits_(config_.credits),
      idempotency_(config_.idempotency_retention.count(), config_.max_idempotency_keys),
      shards_(config_.workers, config_.priority_lanes, config_.ring_capacity, config_.task_overflow_per_worker, idle_),
      delays_(*clock_, config_.timer_tick, [this](TaskRecord& r) { return outcomes_.make_ready(r); }),
      finished_(config_.task_status.max_finished, config_.task_status.retention.count(), ticks_),
      queries_(tasks_, finished_, ticks_, *clock_),
      workflows_(
          [this](const TaskCall& call, const TaskOptions& options, std::uint32_t link) {
            return admission_.submit(registry_.find(call.task), call.payload, options, false, 0, link);
          },
          [this](const TaskCall& call, std::string reason) {
            DeadLetter letter;
            letter.name = call.task;
            letter.payload = call.payload;
            letter.failures.push_back({now_ns(), 0, std::move(reason)});
            keep_dead_letter(dead_letters_, nullptr, std::move(letter), /*newly_dead=*/false);
          },
          !config_.durability.wal_dir.empty(),
          !config_.durability.wal_dir.empty() && config_.durability.durable_by_default),
      outcomes_(*clock_, ticks_, registry_, tasks_, shards_, delays_, dead_letters_, credits_, finished_,
                config_.task_status.max_result_bytes),
      admission_(this, config_, *clock_, ticks_, registry_, tasks_, idempotency_, shards_, delays_, outcomes_,
                 workflows_) {
  // stopping_ is read by every worker as it looks for work; producers'
  // refusal counters are written under overload: lines apart.
  BRISK_ASSERT_LINES_APART(EngineCore, phase_, stopping_);
  BRISK_ASSERT_LINES_APART(EngineCore, stopping_, rejected_backpressure_);
  outcomes_.attach_workflows(&workflows_);
  for (unsigned i = 0; i < config_.workers; ++i) {
    const int cpu = config_.pin_workers ? config_.cpus[i % config_.cpus.size()] : -1;
    workers_.add(std::make_unique<Worker>(worker_ports(), i, cpu));
  }
}

EngineCore::~EngineCore() {
  // The destructor drains: it waits for the engine's tasks to finish, which
  // a task must not do (drain() refuses it: the calling task may be one of
  // them). A destructor cannot throw, so the process stops, saying why,
  // rather than in a bare std::terminate.
  if (this_thread_worker() != nullptr) {
    std::unique_lock lock(lifecycle_mutex_);
    if (phase_ == Phase::running) {
      std::fputs(
          "brisk: a started Engine was destroyed from inside a task; its destructor waits for the engine's tasks, "
          "which a task must not do (it may be one of them). Destroy it from a thread that is not running a "
          "brisk task.\n",
          stderr);
      std::abort();
    }
  }
  stop();
  // A post() that raced with shutdown() may have landed after it; it was
  // accepted, so it runs, here.
  run_leftovers();
}

std::uint32_t EngineCore::register_handler(std::string name, Handler handler,
                                           const TaskTypeOptions& options) {
  std::lock_guard lock(lifecycle_mutex_);
  if (phase_ != Phase::created) {
    throw ConfigError("register_task('" + name + "'): task types must be registered before start()");
  }
  return registry_.add(std::move(name), std::move(handler), options);
}

void EngineCore::start() {
  std::lock_guard lock(lifecycle_mutex_);
  if (phase_ == Phase::running) return;
  if (phase_ == Phase::stopped) throw std::logic_error("brisk::Engine::start() after shutdown()");
  if (config_.observability.metrics_port >= 0) {
    std::optional<http::DebugHooks> debug;
    if (config_.observability.debug_endpoints) debug = debug_hooks();
    metrics_server_ = std::make_unique<http::MetricsServer>([this] { return prometheus_text(); },
                                                            [this] { return health(); }, std::move(debug));
    // Throws (before any thread of ours starts) if the port is taken.
    metrics_server_->start(config_.observability.metrics_host,
                           static_cast<std::uint16_t>(config_.observability.metrics_port));
  }
  if (!config_.durability.wal_dir.empty()) recover();
  started_ns_ = now_ns();
  if (config_.observability.trace_events_per_worker != 0 && config_.observability.trace_from_start) {
    trace_switch_.turn_on(INT64_MAX, 0);  // until stop_trace()
  }
  for (std::size_t i = 0; i < workers_.size(); ++i) workers_[i].start();
  delays_.start();
  std::int64_t shortest_hard_limit = 0;
  for (std::uint32_t t = 0; t < registry_.size(); ++t) {
    const std::int64_t limit = registry_.at(t).options.hard_timeout.count();
    if (limit > 0 && (shortest_hard_limit == 0 || limit < shortest_hard_limit)) shortest_hard_limit = limit;
  }
  if (shortest_hard_limit > 0) {
    const auto period = std::clamp<std::int64_t>(shortest_hard_limit / 4, 1'000'000, 1'000'000'000);
    watchdog_ = std::make_unique<HardLimitWatchdog>(std::chrono::nanoseconds(period),
                                                    [this] { enforce_hard_limits(); });
    watchdog_->start();
  }
  // Batches a crash left complete but not done run their callbacks now.
  if (wal_) workflows_.resume();
  phase_ = Phase::running;
}

WorkerPorts EngineCore::worker_ports() noexcept {
  WorkerSettings settings;
  settings.spin_polls = config_.spin_polls;
  settings.steal_batch = config_.steal_batch;
  settings.record_latency = config_.observability.record_latency;
  settings.trace_events = config_.observability.trace_events_per_worker;
  return WorkerPorts{.engine = this,
                     .shards = shards_,
                     .lanes = lane_schedule_,
                     .idle = idle_,
                     .clock = *clock_,
                     .ticks = ticks_,
                     .trace = trace_switch_,
                     .credits = credits_,
                     .tasks = tasks_,
                     .finished = outcomes_.endings(),
                     .stopping = stopping_,
                     .settings = settings};
}

SubmitResult EngineCore::replay_dead_letter(TaskId id) {
  std::optional<DeadLetter> letter = dead_letters_.take(id);
  if (!letter) {
    SubmitResult r;
    r.status = SubmitStatus::invalid;
    r.reason = "no dead letter with that id";
    return r;
  }
  const std::int64_t type = registry_.find(letter->name);
  // Logged in the letter's stream, so the new task's submit record is
  // always ahead of the DlqReplayed record: a crash between the two can
  // lose neither the letter nor the task.
  SubmitResult r = admission_.submit(type, letter->payload, TaskOptions{}, false, letter->durable_id);
  if (!r.accepted()) {
    keep_dead_letter(dead_letters_, wal_.get(), std::move(*letter), /*newly_dead=*/false);  // keep it: nothing lost
  } else if (letter->durable_id != 0 && wal_) {
    wal_->dlq_replayed(letter->durable_id);
  }
  return r;
}

void EngineCore::drain() {
  {
    std::lock_guard lock(lifecycle_mutex_);
    if (phase_ != Phase::running) {
      // No workers: run what was accepted on this thread.
      run_leftovers();
      return;
    }
  }
  if (this_thread_worker() != nullptr) throw std::logic_error("brisk::Engine::drain() called from a task");
  // Repeat until a round sees no new work: tasks that spawn tasks are
  // drained too. Under a producer that never stops this does not return.
  std::vector<std::uint64_t> targets;
  for (;;) {
    delays_.sync();  // what is due by now joins the rings first
    targets.clear();
    for (std::size_t s = 0; s < shards_.size(); ++s) {
      const Shard& shard = shards_[s];
      for (std::size_t r = 0; r < shard.rings(); ++r) targets.push_back(shard.ring(r).tail());
    }
    std::size_t t = 0;
    unsigned rounds = 0;
    for (std::size_t s = 0; s < shards_.size(); ++s) {
      const Shard& shard = shards_[s];
      for (std::size_t r = 0; r < shard.rings(); ++r, ++t) {  // lanes and the task overflow
        while (shard.ring(r).head() < targets[t]) wait_a_little(rounds);
      }
    }
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      const Worker& worker = workers_[i];
      if (worker.replaced()) continue;  // stuck past its hard limit: its task was retried elsewhere
      const std::uint64_t cycle = worker.cycle();
      if (cycle & 1) {
        while (worker.cycle() == cycle && !worker.replaced()) wait_a_little(rounds);
      }
    }
    // Deferred outcomes (TaskContext::defer) still to come: like running tasks.
    while (outcomes_.deferred_tasks() != 0) wait_a_little(rounds);
    std::uint64_t before = 0;
    for (std::uint64_t v : targets) before += v;
    if (shards_.total_tail() == before) {
      // Retries and rate-limited tasks the round scheduled may be due already.
      delays_.sync();
      if (shards_.total_tail() == before) return;
    }
  }
}

void EngineCore::run_leftovers() {
  // Runs on the calling thread whatever sits in the rings: used when there
  // are no workers (never started, or already joined).
  Job job;
  bool ran = true;
  std::int64_t credits = 0;
  while (ran) {
    ran = false;
    for (std::size_t s = 0; s < shards_.size(); ++s) {
      Shard& shard = shards_[s];
      for (std::size_t r = 0; r < shard.rings(); ++r) {
        while (shard.ring(r).try_pop(job)) {
          ran = true;
          if (JobFields::returns_credit(job)) ++credits;
          try {
            job.run();
          } catch (...) {
          }
        }
      }
    }
  }
  if (credits != 0) outcomes_.endings().return_credits(credits);
}

void EngineCore::shutdown() {
  // From a task, the drain inside stop() would wait for the calling task
  // itself (and drain() throws there). Refuse before touching the lock or
  // accepting_, so that the engine goes on exactly as before the call.
  if (this_thread_worker() != nullptr) throw std::logic_error("brisk::Engine::shutdown() called from a task");
  stop();
}

void EngineCore::stop() {
  // unique_lock, not lock_guard: the lock is released around the drain, and
  // if anything there throws, the lock must not be unlocked a second time.
  std::unique_lock lock(lifecycle_mutex_);
  if (phase_ == Phase::stopped) return;
  // A submission that read "accepting" just before this store may still
  // push after the drain below; run_leftovers() (here and in the destructor)
  // runs such late arrivals, so nothing accepted is dropped.
  admission_.stop_accepting();
  if (phase_ == Phase::running) {
    lock.unlock();
    drain();
    if (watchdog_) watchdog_->stop();
    delays_.stop();  // tasks not yet due stay behind (see pending_timers)
    if (metrics_server_) metrics_server_->stop();
    lock.lock();
    // release: workers that see stopping_ also see everything before it.
    stopping_.store(true, std::memory_order_release);
    idle_.wake_all();
    // A handler stuck past its hard limit is waited for here: C++ cannot
    // kill a thread (docs/architecture.md).
    for (std::size_t i = 0; i < workers_.size(); ++i) workers_[i].join();
  }
  phase_ = Phase::stopped;
  run_leftovers();
  if (wal_) wal_->close();  // syncs what was appended, whatever the policy
}

// ---- start() with a write-ahead log: lock the directory, open and read the
// log, and replay what it holds into the engine (restart/log_replay.hpp).

void EngineCore::recover() {
  // One engine per directory (dir_lock.hpp), taken before the log is read.
  // Held until the engine is destroyed; dropped again, with the log, if the
  // recovery below throws, so that a failed start() leaves the directory free.
  if (!wal_lock_) wal_lock_ = std::make_unique<DirLock>(config_.durability.wal_dir);
  try {
    recover_locked();
  } catch (...) {
    outcomes_.attach_log(nullptr);
    admission_.attach_log(nullptr);
    workflows_.attach_log(nullptr);
    wal_.reset();
    wal_lock_.reset();
    throw;
  }
}

void EngineCore::recover_locked() {
  wal::RecoveredState state;
  wal_ = std::make_unique<DurableLog>(config_.durability, *clock_, config_.idempotency_retention.count(), &state,
                                      &trace_switch_);
  outcomes_.attach_log(wal_.get());
  admission_.attach_log(wal_.get());
  workflows_.attach_log(wal_.get());
  recovery_report_ = replay_into_engine(
      state, ReplayTargets{.log = *wal_,
                           .registry = registry_,
                           .tasks = tasks_,
                           .idempotency = idempotency_,
                           .dead_letters = dead_letters_,
                           .workflows = workflows_,
                           .outcomes = outcomes_,
                           .ticks = ticks_,
                           .now_ns = now_ns(),
                           .wal_dir = config_.durability.wal_dir,
                           .max_named_tasks = config_.max_named_tasks,
                           .priority_lanes = config_.priority_lanes});
}

bool EngineCore::is_durable(const SubmitResult& r) const noexcept {
  return r.durable_ticket != 0 && wal_ && wal_->acked(r.durable_ticket);
}

bool EngineCore::wait_durable(const SubmitResult& r) const {
  return r.durable_ticket != 0 && wal_ && wal_->wait(r.durable_ticket);
}

// ---- hard time limits: the watchdog's check, which retries an overrunning
// attempt in a fresh record and replaces its stuck worker
// (docs/architecture.md says exactly what a hard limit can and cannot do).

void EngineCore::enforce_hard_limits() {
  const std::int64_t now = now_ns();
  outcomes_.expire_deferred(now);  // attempts whose handler deferred (TaskContext::defer)
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    Worker& stuck = workers_[i];
    if (stuck.replaced()) continue;
    TaskRecord* overrun = stuck.take_overrun(now);
    if (overrun == nullptr) continue;
    outcomes_.retry_overrun(overrun, now);
    // Restore capacity: a new thread takes over the stuck worker's shard.
    auto fresh = std::make_unique<Worker>(worker_ports(), stuck.index(), stuck.cpu());
    Worker* started = fresh.get();
    if (workers_.add(std::move(fresh))) {
      stuck.mark_replaced();
      started->start();
    }
  }
}

// ---- runtime traces and the metrics server's /debug/brisk/* callbacks.

TraceStart EngineCore::start_trace(const TraceLimits& limits) {
  if (config_.observability.trace_events_per_worker == 0) return TraceStart::not_configured;
  {
    std::lock_guard lock(lifecycle_mutex_);
    if (phase_ != Phase::running) return TraceStart::not_running;
  }
  return trace_session_.start(limits, now_ns());
}

http::DebugHooks EngineCore::debug_hooks() {
  http::DebugHooks hooks;
  hooks.snapshot = [this] { return snapshot_json(); };
  hooks.start_trace = [this](const TraceLimits& limits) { return start_trace(limits); };
  hooks.stop_trace = [this] { stop_trace(); };
  hooks.take_trace = [this](std::size_t max_events, std::size_t* left_out) {
    std::ostringstream out;
    write_trace(out, max_events, left_out);
    return std::move(out).str();
  };
  const ObservabilityConfig& o = config_.observability;
  hooks.token = o.debug_token;
  hooks.max_seconds = o.max_trace_seconds;
  hooks.max_bytes = o.max_trace_bytes;
  return hooks;
}

}  // namespace brisk::detail

#include "core/engine_core.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <thread>

#include "core/config_validation.hpp"
#include "core/submit_checks.hpp"
#include "flow/job_flags.hpp"

namespace brisk::detail {

namespace {

// The answer to a durable submission once the log has failed for good. A
// reason is a static string; the log's own message (file, operation, error)
// is in EngineStats::wal_failure.
constexpr std::string_view kWalFailedReason =
    "the write-ahead log has failed (disk full or I/O error; EngineStats::wal_failure says which file and "
    "why): fix the disk and restart the engine to recover";

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
      shards_(config_.workers, config_.priority_lanes, config_.ring_capacity, idle_),
      delays_(*clock_, config_.timer_tick, [this](TaskRecord& r) { return outcomes_.make_ready(r); }),
      finished_(config_.task_status.max_finished, config_.task_status.retention.count(), ticks_),
      queries_(tasks_, finished_, ticks_, *clock_),
      workflows_(
          [this](const TaskCall& call, const TaskOptions& options, std::uint32_t link) {
            return submit(registry_.find(call.task), call.payload, options, false, 0, link);
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
      health_monitor_(config_.observability.health) {
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
                     .finished = outcomes_,
                     .stopping = stopping_,
                     .settings = settings};
}

std::size_t EngineCore::home_shard() const noexcept {
  const WorkerIdentity* w = this_thread_worker_of(this);
  return w != nullptr ? w->shard : ShardSet::kNoHome;
}

SubmitStatus EngineCore::post_job(Job&& job, Priority priority) {
  if (priority >= config_.priority_lanes) {
    rejected_invalid_.fetch_add(1, std::memory_order_relaxed);
    return SubmitStatus::invalid;
  }
  if (!accepting_.load(std::memory_order_relaxed)) {
    rejected_shutdown_.fetch_add(1, std::memory_order_relaxed);
    return SubmitStatus::rejected_shutdown;
  }
  job.submit_stamp = ticks_.now();
  if (shards_.push(job, priority, home_shard())) return SubmitStatus::accepted;
  rejected_full_.fetch_add(1, std::memory_order_relaxed);
  return SubmitStatus::rejected_full;
}

BulkResult EngineCore::post_jobs(Job* jobs, std::size_t count, Priority priority) {
  BulkResult result;
  if (priority >= config_.priority_lanes) {
    rejected_invalid_.fetch_add(count, std::memory_order_relaxed);
    result.first_refusal = SubmitStatus::invalid;
    return result;
  }
  if (!accepting_.load(std::memory_order_relaxed)) {
    rejected_shutdown_.fetch_add(count, std::memory_order_relaxed);
    result.first_refusal = SubmitStatus::rejected_shutdown;
    return result;
  }
  const std::uint64_t stamp = ticks_.now();
  for (std::size_t i = 0; i < count; ++i) jobs[i].submit_stamp = stamp;
  result.accepted = shards_.push_bulk(jobs, count, priority, home_shard());
  if (result.accepted != count) {
    rejected_full_.fetch_add(count - result.accepted, std::memory_order_relaxed);
    result.first_refusal = SubmitStatus::rejected_full;
  }
  return result;
}

SubmitResult EngineCore::submit(std::int64_t type, PayloadArg payload, const TaskOptions& options,
                                bool holds_credit, std::uint64_t same_stream_as, std::uint32_t link) {
  auto refuse = [this](SubmitStatus status, std::string_view reason) {
    auto& counter = status == SubmitStatus::invalid ? rejected_invalid_
                    : status == SubmitStatus::rejected_shutdown ? rejected_shutdown_
                                                                : rejected_full_;
    counter.fetch_add(1, std::memory_order_relaxed);
    SubmitResult r;
    r.status = status;
    r.reason = reason;
    return r;
  };
  const TaskTypeEntry* entry_or_null =
      type >= 0 && registry_.contains(static_cast<std::uint32_t>(type)) ? &registry_.at(static_cast<std::uint32_t>(type))
                                                                        : nullptr;
  const SubmitPlan plan = check_submission(config_, *clock_, entry_or_null, wal_.get(), payload.bytes(), options);
  if (!plan.refusal.empty()) return refuse(SubmitStatus::invalid, plan.refusal);
  const bool durable = plan.durable;
  const std::int64_t submit_ns = plan.submit_ns;
  const std::int64_t due = plan.due_ns;
  if (!accepting_.load(std::memory_order_relaxed)) {
    return refuse(SubmitStatus::rejected_shutdown, "engine is shutting down");
  }
  if (durable && wal_->failed()) {
    durability_failures_.fetch_add(1, std::memory_order_relaxed);
    SubmitResult r;
    r.status = SubmitStatus::durability_failed;
    r.reason = kWalFailedReason;
    return r;
  }
  TaskRecord* record = tasks_.acquire();
  if (record == nullptr) return refuse(SubmitStatus::rejected_full, "max_named_tasks tasks in flight");
  record->type = static_cast<std::uint32_t>(type);
  record->priority = options.priority;
  record->submit_ns = submit_ns;
  const std::string& key = options.idempotency_key;
  payload.store_in(*record, key);
  const TaskId id = task_id_of(*record);
  // The one way back from here: whatever refuses the task leaves nothing
  // behind (no record, no key, no credit taken, nothing logged).
  bool key_claimed = false;
  bool linked_here = false;  // a link the caller passed in is the caller's to undo
  auto undo = [&](SubmitResult answer) {
    if (key_claimed) idempotency_.forget(key, id);
    if (linked_here) workflows_.unlink(record->workflow);
    tasks_.release(record);
    return answer;
  };
  if (!key.empty()) {
    const auto claim = idempotency_.claim(key, id, record->submit_ns);
    if (claim.claim == IdempotencyIndex::Claim::full) {
      return undo(refuse(SubmitStatus::rejected_full, "max_idempotency_keys keys remembered"));
    }
    if (claim.claim == IdempotencyIndex::Claim::duplicate) {
      SubmitResult r;
      r.status = SubmitStatus::duplicate;
      r.id = claim.existing;
      r.reason = "idempotency key already accepted within the retention window";
      return undo(r);
    }
    key_claimed = true;
  }
  if (link == 0 && options.batch != 0) {
    std::string_view why;
    const std::optional<std::uint32_t> joined = workflows_.link(options.batch, {}, options, &why);
    if (!joined) return undo(refuse(SubmitStatus::invalid, why));
    link = *joined;
    linked_here = true;
  }
  record->workflow = link;
  TaskTypeEntry& entry = registry_.at(static_cast<std::uint32_t>(type));
  record->due_ns = due > record->submit_ns ? due : 0;  // a delay: logged
  // When it may enter a ring: its delay, or else its turn at its type's
  // rate (not logged: a restart takes a new turn). Until then it waits on
  // the timer, not in a ring.
  const std::int64_t wake_at = record->due_ns != 0 ? record->due_ns
                               : entry.limiter         ? outcomes_.take_rate_turn(*record, entry)
                                                       : 0;
  const bool delayed = wake_at != 0;
  // A task due now takes its ring position before it is logged: a task the
  // rings refuse must never reach the log, or it would run after a restart
  // although the caller was told "rings full".
  ShardSet::Slot slot;
  if (!delayed) {
    slot = shards_.claim(record->priority, home_shard());
    if (!slot) return undo(refuse(SubmitStatus::rejected_full, "rings full"));
  }
  std::uint64_t ticket = 0;
  if (durable) {
    // Logged before it can run: once in a ring the record may finish and be reused.
    // A task in a workflow is logged with its place in it (Workflows).
    ticket = link != 0 ? workflows_.log_submit(link, *record, entry.name, key, same_stream_as)
                       : wal_->submitted(*record, entry.name, key, same_stream_as);
    if (ticket == 0) {
      if (slot) shards_.publish(slot, Job([] {}));  // the position is claimed: fill it with nothing to do
      durability_failures_.fetch_add(1, std::memory_order_relaxed);
      SubmitResult r;
      r.status = SubmitStatus::durability_failed;
      r.reason = kWalFailedReason;  // the size was checked above: only a failed (or closed) log refuses
      return undo(r);
    }
  }
  record->holds_credit = holds_credit;
  // The job's stamp doubles as the acceptance time status() reports (release:
  // see status/task_status.hpp).
  Job job = delayed ? Job() : outcomes_.named_job(*record);
  record->accepted_stamp.store(delayed ? ticks_.now() : job.submit_stamp, std::memory_order_release);
  if (delayed) {
    // release: the record's fields are visible to whoever acquires the state.
    record->state_word.store(state_word(generation_of(*record), RecordState::waiting), std::memory_order_release);
    delays_.schedule(*record, wake_at);
  } else {
    // release: the record's fields are visible to whoever acquires the state.
    record->state_word.store(state_word(generation_of(*record), RecordState::queued), std::memory_order_release);
    shards_.publish(slot, std::move(job));
  }
  // Not record->type: once enqueued, the record may already be finished and reused.
  entry.counters.add(TaskEvent::accepted);
  SubmitResult r;
  r.status = SubmitStatus::accepted;
  r.id = id;
  r.durable_ticket = ticket;
  return r;
}

SubmitResult EngineCore::submit_chain(std::vector<TaskCall> steps, const TaskOptions& options) {
  auto invalid = [this](std::string_view reason) {  // static texts: SubmitResult::reason is a view
    rejected_invalid_.fetch_add(1, std::memory_order_relaxed);
    SubmitResult r;
    r.status = SubmitStatus::invalid;
    r.reason = reason;
    return r;
  };
  if (steps.empty()) return invalid("a chain needs at least one step");
  for (std::size_t k = 0; k < steps.size(); ++k) {
    if (registry_.find(steps[k].task) < 0) return invalid("a chain step names an unknown task");
    if (k > 0 && !steps[k].payload.empty()) {
      return invalid("a chain step after the first has a payload: it runs with the previous step's result");
    }
  }
  std::vector<TaskCall> rest(std::make_move_iterator(steps.begin() + 1), std::make_move_iterator(steps.end()));
  std::string_view why;
  const std::optional<std::uint32_t> link = workflows_.link(options.batch, std::move(rest), options, &why);
  if (!link) return invalid(why);
  SubmitResult r = submit(registry_.find(steps[0].task), std::move(steps[0].payload), options, false, 0, *link);
  if (!r.accepted()) workflows_.unlink(*link);
  return r;
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
  SubmitResult r = submit(type, letter->payload, TaskOptions{}, false, letter->durable_id);
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
      for (std::size_t lane = 0; lane < shard.lanes(); ++lane) targets.push_back(shard.lane(lane).tail());
    }
    std::size_t t = 0;
    unsigned rounds = 0;
    for (std::size_t s = 0; s < shards_.size(); ++s) {
      const Shard& shard = shards_[s];
      for (std::size_t lane = 0; lane < shard.lanes(); ++lane, ++t) {
        while (shard.lane(lane).head() < targets[t]) wait_a_little(rounds);
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
      for (std::size_t lane = 0; lane < shard.lanes(); ++lane) {
        while (shard.lane(lane).try_pop(job)) {
          ran = true;
          if (job.flags & kJobReturnsCredit) ++credits;
          try {
            job.run();
          } catch (...) {
          }
        }
      }
    }
  }
  if (credits != 0) outcomes_.return_credits(credits);
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
  // A submit that read accepting_ == true just before this store may still
  // push after the drain below; run_leftovers() (here and in the destructor)
  // runs such late arrivals, so nothing accepted is dropped.
  accepting_.store(false, std::memory_order_relaxed);
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

}  // namespace brisk::detail

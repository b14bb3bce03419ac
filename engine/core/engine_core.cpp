#include "core/engine_core.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <thread>

#include "core/config_validation.hpp"
#include "core/job_flags.hpp"
#include "core/running_task.hpp"
#include "retry/backoff.hpp"
#include "platform/cpu_affinity.hpp"
#include "platform/thread_number.hpp"

namespace brisk::detail {

namespace {

// Named tasks travel through the rings as this 16-byte, trivially copyable job.
struct NamedTaskJob {
  EngineCore* core;
  TaskRecord* record;
  void operator()() const { core->run_named(*record); }
};

// The answer to a durable submission once the log has failed for good. A
// reason is a static string; the log's own message (file, operation, error)
// is in EngineStats::wal_failure.
constexpr std::string_view kWalFailedReason =
    "the write-ahead log has failed (disk full or I/O error; EngineStats::wal_failure says which file and "
    "why): fix the disk and restart the engine to recover";

// The reason for an oversized durable task quotes the limit as text.
static_assert(wal::kMaxPayloadSize == 64u << 20, "update the 'record limit' reason in submit()");

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
      delays_(*clock_, config_.timer_tick, [this](TaskRecord& r) { return make_ready(r); }),
      health_monitor_(config_.observability.health) {
  shards_.reserve(config_.workers);
  for (unsigned i = 0; i < config_.workers; ++i) {
    shards_.push_back(std::make_unique<Shard>(config_.priority_lanes, config_.ring_capacity));
    const int cpu = config_.pin_workers ? config_.cpus[i % config_.cpus.size()] : -1;
    workers_.add(std::make_unique<Worker>(*this, i, cpu));
  }
}

EngineCore::~EngineCore() {
  // The destructor drains: it waits for the engine's tasks to finish, which
  // a task must not do (drain() refuses it: the calling task may be one of
  // them). A destructor cannot throw, so the process stops, saying why,
  // rather than in a bare std::terminate.
  if (Worker::current() != nullptr) {
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
    metrics_server_ = std::make_unique<http::MetricsServer>([this] { return prometheus_text(); },
                                                            [this] { return health(); });
    // Throws (before any thread of ours starts) if the port is taken.
    metrics_server_->start(config_.observability.metrics_host,
                           static_cast<std::uint16_t>(config_.observability.metrics_port));
  }
  if (!config_.durability.wal_dir.empty()) recover();
  started_ns_ = now_ns();
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
  phase_ = Phase::running;
}

Worker* EngineCore::own_worker() const noexcept {
  Worker* w = Worker::current();
  return w != nullptr && w->serves(*this) ? w : nullptr;
}

std::size_t EngineCore::home_shard() const noexcept {
  if (Worker* w = own_worker(); w != nullptr && w->index() < shards_.size()) return w->index();
  return this_thread_number() % shards_.size();
}

EngineCore::RingSlot EngineCore::claim_ring_slot(Priority priority) noexcept {
  const std::size_t home = home_shard();
  const std::size_t n = shards_.size();
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t s = home + k;
    if (s >= n) s -= n;
    JobRing& ring = shards_[s]->lane(priority);
    if (JobRing::Claim claim = ring.try_claim()) return {&ring, claim};
  }
  return {};
}

void EngineCore::publish(RingSlot slot, Job&& job) noexcept {
  slot.ring->publish(slot.claim, std::move(job));
  idle_.notify_work();
}

bool EngineCore::push_job(Job& job, Priority priority) {
  const RingSlot slot = claim_ring_slot(priority);
  if (!slot) return false;
  publish(slot, std::move(job));
  return true;
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
  if (push_job(job, priority)) return SubmitStatus::accepted;
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
  const std::size_t home = home_shard();
  const std::size_t n = shards_.size();
  for (std::size_t k = 0; k < n && result.accepted < count; ++k) {
    std::size_t s = home + k;
    if (s >= n) s -= n;
    JobRing& ring = shards_[s]->lane(priority);
    // A shard may take the batch in several claims when it is nearly full.
    while (result.accepted < count) {
      const std::size_t took = ring.try_push_bulk(jobs + result.accepted, count - result.accepted);
      if (took == 0) break;
      result.accepted += took;
    }
  }
  if (result.accepted != 0) idle_.notify_work();
  if (result.accepted != count) {
    rejected_full_.fetch_add(count - result.accepted, std::memory_order_relaxed);
    result.first_refusal = SubmitStatus::rejected_full;
  }
  return result;
}

SubmitResult EngineCore::submit(std::int64_t type, std::string payload, const TaskOptions& options,
                                bool holds_credit, std::uint64_t same_stream_as) {
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
  if (type < 0 || !registry_.contains(static_cast<std::uint32_t>(type))) {
    return refuse(SubmitStatus::invalid, "unknown task name");
  }
  if (options.priority >= config_.priority_lanes) {
    return refuse(SubmitStatus::invalid, "priority out of range (see EngineConfig::priority_lanes)");
  }
  if (payload.size() > config_.max_payload_bytes) {
    return refuse(SubmitStatus::invalid, "payload larger than EngineConfig::max_payload_bytes");
  }
  if (options.delay.count() < 0) return refuse(SubmitStatus::invalid, "negative delay");
  if (options.durability != Durability::engine_default && options.durability != Durability::memory &&
      options.durability != Durability::durable) {
    return refuse(SubmitStatus::invalid, "TaskOptions::durability is not engine_default, memory or durable");
  }
  const bool has_log = !config_.durability.wal_dir.empty();
  const bool durable = options.durability == Durability::durable ||
                       (options.durability == Durability::engine_default && has_log &&
                        config_.durability.durable_by_default);
  // The clock is read only as precisely as something needs it: a due time
  // (delay, run_at) needs now; a key's retention and the log's record of
  // when a task was accepted are fine a few ms behind (the coarse clock is
  // a few ns to read, the precise one ~20 ns: ~9% of a memory submit); an
  // immediate memory task without a key needs no time at all.
  const std::int64_t submit_ns = options.run_at_ns || options.delay.count() != 0 ? now_ns()
                                 : !options.idempotency_key.empty() || durable  ? clock_->now_coarse_ns()
                                                                                : 0;
  // now + delay must fit in int64: a signed overflow is undefined behaviour
  // and in practice wraps to the past, so the task would run at once.
  // Refused rather than saturated: a silently changed deadline is no answer.
  if (!options.run_at_ns && submit_ns > 0 &&
      options.delay.count() > std::numeric_limits<std::int64_t>::max() - submit_ns) {
    return refuse(SubmitStatus::invalid, "delay too large: now + delay overflows int64 nanoseconds");
  }
  const std::int64_t due = options.run_at_ns ? *options.run_at_ns : submit_ns + options.delay.count();
  if (options.idempotency_key.size() > 1024) {
    return refuse(SubmitStatus::invalid, "idempotency key longer than 1024 bytes");
  }
  if (durable && !has_log) {
    return refuse(SubmitStatus::invalid, "a durable submission needs EngineConfig::durability.wal_dir");
  }
  if (durable && !wal_) {
    // Not accepted now and logged at start(): start() first recovers the
    // log's idempotency keys, so until then a key cannot be answered truly.
    return refuse(SubmitStatus::invalid,
                  "a durable submission before start(): the write-ahead log is opened (and its idempotency "
                  "keys recovered) by start(); submit after start(), or with TaskOptions::durability = "
                  "Durability::memory");
  }
  if (durable) {
    // Checked here, not left to the log's append: a refused append looks
    // like a failed log (ticket 0), and this is the caller's input, not the disk.
    if (!wal_->fits_in_a_record(registry_.at(static_cast<std::uint32_t>(type)).name, payload,
                                options.idempotency_key)) {
      return refuse(SubmitStatus::invalid,
                    "durable task larger than the write-ahead log's 64 MiB record limit "
                    "(payload, task name and idempotency key together)");
    }
    // The log stores wall-clock times (engine time + an offset): that sum
    // must not overflow either.
    if (due > submit_ns && !wal_->fits_wall_clock(due)) {
      return refuse(SubmitStatus::invalid,
                    "delay too large (or run_at_ns too late) to log: the deadline as wall-clock time "
                    "overflows int64 nanoseconds");
    }
  }
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
  record->set_payload(std::move(payload), key);
  const TaskId id = task_id_of(*record);
  // The one way back from here: whatever refuses the task leaves nothing
  // behind (no record, no key, no credit taken, nothing logged).
  bool key_claimed = false;
  auto undo = [&](SubmitResult answer) {
    if (key_claimed) idempotency_.forget(key, id);
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
  TaskTypeEntry& entry = registry_.at(static_cast<std::uint32_t>(type));
  record->due_ns = due > record->submit_ns ? due : 0;  // a delay: logged
  // When it may enter a ring: its delay, or else its turn at its type's
  // rate (not logged: a restart takes a new turn). Until then it waits on
  // the timer, not in a ring.
  const std::int64_t wake_at = record->due_ns != 0 ? record->due_ns
                               : entry.limiter         ? take_rate_turn(*record, entry)
                                                       : 0;
  const bool delayed = wake_at != 0;
  // A task due now takes its ring position before it is logged: a task the
  // rings refuse must never reach the log, or it would run after a restart
  // although the caller was told "rings full".
  RingSlot slot;
  if (!delayed) {
    slot = claim_ring_slot(record->priority);
    if (!slot) return undo(refuse(SubmitStatus::rejected_full, "rings full"));
  }
  std::uint64_t ticket = 0;
  if (durable) {
    // Logged before it can run: once in a ring the record may finish and be reused.
    ticket = wal_->submitted(*record, entry.name, key, same_stream_as);
    if (ticket == 0) {
      if (slot) publish(slot, Job([] {}));  // the position is claimed: fill it with nothing to do
      durability_failures_.fetch_add(1, std::memory_order_relaxed);
      SubmitResult r;
      r.status = SubmitStatus::durability_failed;
      r.reason = kWalFailedReason;  // the size was checked above: only a failed (or closed) log refuses
      return undo(r);
    }
  }
  record->holds_credit = holds_credit;
  if (delayed) {
    // release: the record's fields are visible to whoever acquires the state.
    record->state_word.store(state_word(generation_of(*record), TaskState::waiting), std::memory_order_release);
    delays_.schedule(*record, wake_at);
  } else {
    // release: the record's fields are visible to whoever acquires the state.
    record->state_word.store(state_word(generation_of(*record), TaskState::queued), std::memory_order_release);
    publish(slot, named_job(*record));
  }
  // Not record->type: once enqueued, the record may already be finished and reused.
  entry.counters.add(TaskEvent::accepted);
  SubmitResult r;
  r.status = SubmitStatus::accepted;
  r.id = id;
  r.durable_ticket = ticket;
  return r;
}

Job EngineCore::named_job(TaskRecord& record) noexcept {
  Job job(NamedTaskJob{this, &record});
  job.submit_stamp = ticks_.now();
  return job;
}

void EngineCore::run_named(TaskRecord& record) {
  const std::uint32_t generation = generation_of(record);
  TaskTypeEntry& type = registry_.at(record.type);
  if (!transition(record, generation, TaskState::queued, TaskState::running)) {
    // cancel() won the race while the task sat in a ring.
    meet_cancelled(record, type);  // gives back a gate slot it was handed
    return;
  }
  if (type.gate && !record.holds_gate_slot) {
    // Over the type's concurrency limit: park until a slot is handed over.
    // Back to `queued` first so that cancel() still works while parked.
    record.state_word.store(state_word(generation, TaskState::queued), std::memory_order_release);
    if (!type.gate->enter_or_park(&record)) return;
    if (!transition(record, generation, TaskState::queued, TaskState::running)) {
      release_gate_slot(type);
      meet_cancelled(record, type);
      return;
    }
  }
  record.holds_gate_slot = false;
  record.holds_rate_turn = false;  // used: a retry takes a new turn
  ++record.attempt;
  RunningTask context(record, type, *clock_);
  const std::int64_t hard_limit = type.options.hard_timeout.count();
  Worker* const self = hard_limit > 0 ? own_worker() : nullptr;
  const std::int64_t hard_deadline = self != nullptr ? now_ns() + hard_limit : 0;
  if (self != nullptr) {
    // If this attempt hangs, the watchdog replaces the worker and drain()
    // stops waiting for it: log what it finished before, first.
    self->flush_completions();
    self->begin_attempt(&record, hard_deadline);
  }
  Outcome outcome = Outcome::success();
  try {
    struct SlotRelease {  // frees the type's slot however the handler ends
      EngineCore* core;
      TaskTypeEntry& type;
      ~SlotRelease() {
        if (type.gate) core->release_gate_slot(type);
      }
    } slot_release{this, type};
    outcome = type.handler(context);
  } catch (const std::exception& e) {
    outcome = type.options.exceptions_are_permanent ? Outcome::fail(e.what()) : Outcome::retry(e.what());
  } catch (...) {
    outcome = type.options.exceptions_are_permanent ? Outcome::fail("unknown exception")
                                                    : Outcome::retry("unknown exception");
  }
  if (self != nullptr && !self->end_attempt(hard_deadline)) {
    // The watchdog declared this attempt timed out and retried the task in a
    // new record; wait for it to finish copying, then drop the late result.
    while (!record.abandoned.load(std::memory_order_acquire)) std::this_thread::yield();
    type.counters.add(TaskEvent::late_result);
    tasks_.release(&record);
    return;
  }
  if (outcome.kind() == Outcome::Kind::success) {
    type.counters.add(TaskEvent::succeeded);
    if (record.durable_id != 0) {
      // A worker logs the completions of a batch together, when the batch
      // ends and before drain() can see it finished; any other thread (or
      // another engine's worker, running this one's drain()) at once.
      if (Worker* worker = own_worker()) {
        worker->log_completion(record.durable_id);
      } else {
        log_completions({&record.durable_id, 1});
      }
    }
    retire(record);
    return;
  }
  record_failure(record, type, outcome);
  if (outcome.kind() == Outcome::Kind::retry && record.attempt < type.options.retry.max_attempts) {
    const auto delay = retry_delay(type.options.retry, record.attempt, jitter_bits());
    type.counters.add(TaskEvent::retried);
    const std::int64_t due = now_ns() + delay.count();
    if (record.durable_id != 0) wal_->retry_scheduled(record.durable_id, record.attempt, due);
    wait_until(record, due);
    return;
  }
  dead_letter(record, type);
}

void EngineCore::record_failure(TaskRecord& record, TaskTypeEntry& type, const Outcome& outcome) {
  type.counters.add(TaskEvent::failed_attempt);
  record.failures.push_back(FailureEntry{now_ns(), record.attempt, outcome.message()});
}

void EngineCore::dead_letter(TaskRecord& record, TaskTypeEntry& type) {
  DeadLetter letter;
  letter.id = task_id_of(record);
  letter.name = type.name;
  letter.payload = record.take_payload();
  letter.attempts = record.attempt;
  letter.durable_id = record.durable_id;
  for (auto& f : record.failures) letter.failures.push_back({f.time_ns, f.attempt, std::move(f.message)});
  keep_dead_letter(dead_letters_, wal_.get(), std::move(letter), /*newly_dead=*/true);
  type.counters.add(TaskEvent::dead_lettered);
  retire(record);
}

void EngineCore::release_gate_slot(TaskTypeEntry& type) {
  // A loop, not recursion: a parked task that cannot be queued or was
  // cancelled passes the slot straight on to the next one.
  while (TaskRecord* next = type.gate->leave()) {
    // The slot passes to the parked task; it runs when a worker takes it.
    next->holds_gate_slot = true;
    if (const RingSlot slot = claim_ring_slot(next->priority)) {
      publish(slot, named_job(*next));
      return;
    }
    // Rings full. It was accepted, so it must not be dropped; this worker
    // must neither block nor run it here (a long line of parked tasks would
    // nest one handler call inside the other until the stack overflows). It
    // waits on the timer for room instead, holding its slot. A CAS: cancel()
    // may have won while it was parked (state queued).
    if (transition(*next, generation_of(*next), TaskState::queued, TaskState::waiting)) {
      delays_.schedule(*next, now_ns());
      return;
    }
    next->holds_gate_slot = false;  // cancelled: retire it, offer the slot on
    meet_cancelled(*next, type);
  }
}

void EngineCore::wait_until(TaskRecord& record, std::int64_t due_ns) {
  record.state_word.store(state_word(generation_of(record), TaskState::waiting), std::memory_order_release);
  delays_.schedule(record, due_ns);
}

std::int64_t EngineCore::take_rate_turn(TaskRecord& record, TaskTypeEntry& type) {
  record.holds_rate_turn = true;
  const std::int64_t now = now_ns();
  const std::int64_t wait = type.limiter->reserve(now);
  if (wait == 0) return 0;
  type.counters.add(TaskEvent::rate_limited);
  return now + wait;
}

bool EngineCore::make_ready(TaskRecord& record) {
  const std::uint32_t generation = generation_of(record);
  TaskTypeEntry& type = registry_.at(record.type);
  if (type.limiter && !record.holds_rate_turn && !record.holds_gate_slot &&
      state_of(record.state_word.load(std::memory_order_acquire)) == TaskState::waiting) {
    // Due (a delay, a retry, a restart): it takes its turn at the type's
    // rate first, and waits for it here. Still `waiting`: a cancel() that
    // comes meanwhile is met when the turn comes.
    if (const std::int64_t turn = take_rate_turn(record, type)) {
      delays_.schedule(record, turn);
      return true;
    }
  }
  if (!transition(record, generation, TaskState::waiting, TaskState::queued)) {
    // cancel() won while it waited.
    meet_cancelled(record, type);
    return true;
  }
  if (const RingSlot slot = claim_ring_slot(record.priority)) {
    publish(slot, named_job(record));
    return true;
  }
  // Rings full: back to waiting; the scheduler offers it again next tick.
  // A CAS, not a store: cancel() may have moved it from queued meanwhile,
  // and a store would resurrect a task whose cancel() already returned true.
  if (!transition(record, generation, TaskState::queued, TaskState::waiting)) {
    meet_cancelled(record, type);
    return true;
  }
  return false;
}

void EngineCore::meet_cancelled(TaskRecord& record, TaskTypeEntry& type) {
  // acq_rel: on success cancel() sees what this holder did to the record;
  // on failure (cancelled) this thread sees what cancel() did.
  std::uint64_t expected = state_word(generation_of(record), TaskState::cancelling);
  if (record.state_word.compare_exchange_strong(expected,
                                                state_word(generation_of(record), TaskState::left_to_canceller),
                                                std::memory_order_acq_rel, std::memory_order_acquire)) {
    return;  // cancel() is still logging it: it releases the record when done
  }
  retire_cancelled(record, type);
}

void EngineCore::retire_cancelled(TaskRecord& record, TaskTypeEntry& type) {
  if (record.holds_gate_slot) {  // handed a slot, then cancelled: pass it on
    record.holds_gate_slot = false;
    release_gate_slot(type);
  }
  retire(record);
}

void EngineCore::retire(TaskRecord& record) {
  const bool credit = record.holds_credit;
  // On this engine's worker the record joins the batch's chain, given back
  // in one push when the batch ends; anywhere else, at once.
  if (Worker* worker = own_worker()) {
    tasks_.defer_release(&record, worker->finished_records());
  } else {
    tasks_.release(&record);
  }
  if (credit) return_credits(1);
}

void EngineCore::log_completions(std::span<const std::uint64_t> durable_ids) { wal_->completed(durable_ids); }

void EngineCore::return_credits(std::int64_t n) {
  credits_.observe_return_rate(now_ns(), n);
  credits_.give_back(n);
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

std::size_t EngineCore::purge_dead_letters() {
  std::size_t purged = 0;
  if (const std::uint64_t ticket = brisk::detail::purge_dead_letters(dead_letters_, wal_.get(), &purged)) {
    wal_->wait(ticket);
  }
  return purged;
}

bool EngineCore::cancel(TaskId id) {
  TaskRecord* record = tasks_.find(id);
  if (record == nullptr) return false;
  const auto generation = static_cast<std::uint32_t>(id >> 32);
  if (transition(*record, generation, TaskState::queued, TaskState::cancelling) ||
      transition(*record, generation, TaskState::waiting, TaskState::cancelling)) {
    // While cancelling, no one releases the record (see meet_cancelled), so
    // its fields are still this task's. The cancellation is logged, and on
    // disk as the fsync policy promises, before the caller hears "cancelled":
    // a cancelled task never runs again after a restart. In the task's own
    // stream, so it follows the task's submit (and retries) in the log.
    const std::uint64_t durable_id = record->durable_id;
    const std::uint64_t ticket = durable_id != 0 ? wal_->cancelled(durable_id) : 0;
    registry_.at(record->type).counters.add(TaskEvent::cancelled);
    if (!transition(*record, generation, TaskState::cancelling, TaskState::cancelled)) {
      // Its holder met it meanwhile and left it to us (left_to_canceller).
      retire_cancelled(*record, registry_.at(record->type));
    }
    // A failed log answers false here: the task will not run in this
    // process, but a restart would run it (docs/faults.md).
    if (ticket != 0) wal_->wait(ticket);
    return true;
  }
  // Running: too late to cancel, but the handler may poll the request.
  if (generation_of(*record) == generation &&
      state_of(record->state_word.load(std::memory_order_acquire)) == TaskState::running) {
    record->stop_requested.store(true, std::memory_order_relaxed);
  }
  return false;
}

std::uint64_t EngineCore::total_tail() const noexcept {
  std::uint64_t sum = 0;
  for (const auto& shard : shards_) {
    for (std::size_t lane = 0; lane < shard->lanes(); ++lane) sum += shard->lane(lane).tail();
  }
  return sum;
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
  if (Worker::current() != nullptr) throw std::logic_error("brisk::Engine::drain() called from a task");
  // Repeat until a round sees no new work: tasks that spawn tasks are
  // drained too. Under a producer that never stops this does not return.
  std::vector<std::uint64_t> targets;
  for (;;) {
    delays_.sync();  // what is due by now joins the rings first
    targets.clear();
    for (const auto& shard : shards_) {
      for (std::size_t lane = 0; lane < shard->lanes(); ++lane) targets.push_back(shard->lane(lane).tail());
    }
    std::size_t t = 0;
    unsigned rounds = 0;
    for (const auto& shard : shards_) {
      for (std::size_t lane = 0; lane < shard->lanes(); ++lane, ++t) {
        while (shard->lane(lane).head() < targets[t]) wait_a_little(rounds);
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
    std::uint64_t before = 0;
    for (std::uint64_t v : targets) before += v;
    if (total_tail() == before) {
      // Retries and rate-limited tasks the round scheduled may be due already.
      delays_.sync();
      if (total_tail() == before) return;
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
    for (auto& shard : shards_) {
      for (std::size_t lane = 0; lane < shard->lanes(); ++lane) {
        while (shard->lane(lane).try_pop(job)) {
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
  if (credits != 0) return_credits(credits);
}

void EngineCore::shutdown() {
  // From a task, the drain inside stop() would wait for the calling task
  // itself (and drain() throws there). Refuse before touching the lock or
  // accepting_, so that the engine goes on exactly as before the call.
  if (Worker::current() != nullptr) throw std::logic_error("brisk::Engine::shutdown() called from a task");
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

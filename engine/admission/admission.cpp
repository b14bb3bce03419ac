#include "admission/admission.hpp"

#include "admission/submit_checks.hpp"
#include "shard/job_fields.hpp"
#include "worker/this_thread_worker.hpp"

namespace brisk::detail {

namespace {

// The answer to a durable submission once the log has failed for good. A
// reason is a static string; the log's own message (file, operation, error)
// is in EngineStats::wal_failure.
constexpr std::string_view kWalFailedReason =
    "the write-ahead log has failed (disk full or I/O error; EngineStats::wal_failure says which file and "
    "why): fix the disk and restart the engine to recover";

}  // namespace

std::size_t Admission::home_shard() const noexcept {
  const WorkerIdentity* w = this_thread_worker_of(engine_);
  return w != nullptr ? w->shard : ShardSet::kNoHome;
}

ShardSet::Slot Admission::claim_overflow(std::size_t home) noexcept {
  // Outside threads keep the rings' bound; without an overflow nothing is counted.
  if (home == ShardSet::kNoHome || config_.task_overflow_per_worker == 0) return {};
  const ShardSet::Slot slot = shards_.claim_overflow(home);
  (slot ? overflowed_ : overflow_refused_).fetch_add(1, std::memory_order_relaxed);
  return slot;
}

SubmitResult Admission::refuse(SubmitStatus status, std::string_view reason) noexcept {
  auto& counter = status == SubmitStatus::invalid ? rejected_invalid_
                  : status == SubmitStatus::rejected_shutdown ? rejected_shutdown_
                                                              : rejected_full_;
  counter.fetch_add(1, std::memory_order_relaxed);
  SubmitResult r;
  r.status = status;
  r.reason = reason;
  return r;
}

SubmitResult Admission::log_failed() noexcept {
  durability_failures_.fetch_add(1, std::memory_order_relaxed);
  SubmitResult r;
  r.status = SubmitStatus::durability_failed;
  r.reason = kWalFailedReason;
  return r;
}

SubmitStatus Admission::post_job(Job&& job, Priority priority) {
  if (priority >= config_.priority_lanes) {
    rejected_invalid_.fetch_add(1, std::memory_order_relaxed);
    return SubmitStatus::invalid;
  }
  if (!accepting_.load(std::memory_order_relaxed)) {
    rejected_shutdown_.fetch_add(1, std::memory_order_relaxed);
    return SubmitStatus::rejected_shutdown;
  }
  JobFields::set_submit_stamp(job, ticks_.now());
  const std::size_t home = home_shard();
  if (shards_.push(job, priority, home)) return SubmitStatus::accepted;
  const ShardSet::Slot slot = claim_overflow(home);  // from a task: its worker's overflow
  if (!slot) {
    rejected_full_.fetch_add(1, std::memory_order_relaxed);
    return SubmitStatus::rejected_full;
  }
  shards_.publish(slot, std::move(job));
  return SubmitStatus::accepted;
}

BulkResult Admission::post_jobs(Job* jobs, std::size_t count, Priority priority) {
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
  for (std::size_t i = 0; i < count; ++i) JobFields::set_submit_stamp(jobs[i], stamp);
  const std::size_t home = home_shard();
  result.accepted = shards_.push_bulk(jobs, count, priority, home);
  // From a task: what no ring of the lane took goes to its worker's overflow.
  while (result.accepted != count) {
    const ShardSet::Slot slot = claim_overflow(home);
    if (!slot) break;
    shards_.publish(slot, std::move(jobs[result.accepted++]));
  }
  if (result.accepted != count) {
    rejected_full_.fetch_add(count - result.accepted, std::memory_order_relaxed);
    result.first_refusal = SubmitStatus::rejected_full;
  }
  return result;
}

SubmitResult Admission::submit(std::int64_t type, PayloadArg payload, const TaskOptions& options,
                               bool holds_credit, std::uint64_t same_stream_as, std::uint32_t link) {
  const TaskTypeEntry* entry_or_null =
      type >= 0 && registry_.contains(static_cast<std::uint32_t>(type)) ? &registry_.at(static_cast<std::uint32_t>(type))
                                                                        : nullptr;
  const SubmitPlan plan = check_submission(config_, clock_, entry_or_null, log_, payload.bytes(), options);
  if (!plan.refusal.empty()) return refuse(SubmitStatus::invalid, plan.refusal);
  const bool durable = plan.durable;
  const std::int64_t submit_ns = plan.submit_ns;
  const std::int64_t due = plan.due_ns;
  if (!accepting_.load(std::memory_order_relaxed)) {
    return refuse(SubmitStatus::rejected_shutdown, "engine is shutting down");
  }
  if (durable && log_->failed()) return log_failed();
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
    const std::size_t home = home_shard();
    slot = shards_.claim(record->priority, home);
    if (!slot && !(slot = claim_overflow(home))) {
      return undo(refuse(SubmitStatus::rejected_full, home == ShardSet::kNoHome
                                                          ? "rings full"
                                                          : "rings full, and this worker's task overflow too"));
    }
  }
  std::uint64_t ticket = 0;
  if (durable) {
    // Logged before it can run: once in a ring the record may finish and be reused.
    // A task in a workflow is logged with its place in it (Workflows).
    ticket = link != 0 ? workflows_.log_submit(link, *record, entry.name, key, same_stream_as)
                       : log_->submitted(*record, entry.name, key, same_stream_as);
    if (ticket == 0) {
      if (slot) shards_.publish(slot, Job([] {}));  // the position is claimed: fill it with nothing to do
      return undo(log_failed());  // the size was checked above: only a failed (or closed) log refuses
    }
  }
  record->holds_credit = holds_credit;
  // The job's stamp doubles as the acceptance time status() reports (release:
  // see status/task_status.hpp).
  Job job = delayed ? Job() : outcomes_.named_job(*record);
  record->accepted_stamp.store(delayed ? ticks_.now() : JobFields::submit_stamp(job), std::memory_order_release);
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

SubmitResult Admission::submit_chain(std::vector<TaskCall> steps, const TaskOptions& options) {
  // static texts: SubmitResult::reason is a view
  auto invalid = [this](std::string_view reason) { return refuse(SubmitStatus::invalid, reason); };
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

}  // namespace brisk::detail

#include "outcome/task_outcomes.hpp"

#include <thread>

#include "outcome/running_task.hpp"
#include "retry/backoff.hpp"
#include "shard/job_fields.hpp"

namespace brisk::detail {

Job TaskOutcomes::named_job(TaskRecord& record) noexcept {
  Job job(Job::TakesBatch{}, NamedTaskJob{this, &record});
  JobFields::set_submit_stamp(job, ticks_.now());
  return job;
}

void TaskOutcomes::run(TaskRecord& record, WorkerBatch* batch) {
  const std::uint32_t generation = generation_of(record);
  TaskTypeEntry& type = registry_.at(record.type);
  if (!transition(record, generation, RecordState::queued, RecordState::running)) {
    // cancel() won the race while the task sat in a ring.
    meet_cancelled(record, type, batch);  // gives back a gate slot it was handed
    return;
  }
  if (type.gate && !record.holds_gate_slot) {
    // Over the type's concurrency limit: park until a slot is handed over.
    // Back to `queued` first so that cancel() still works while parked.
    record.state_word.store(state_word(generation, RecordState::queued), std::memory_order_release);
    if (!type.gate->enter_or_park(&record)) return;
    if (!transition(record, generation, RecordState::queued, RecordState::running)) {
      release_gate_slot(type, batch);
      meet_cancelled(record, type, batch);
      return;
    }
  }
  record.holds_gate_slot = false;
  record.holds_rate_turn = false;  // used: a retry takes a new turn
  // release: a status() reader that sees these sees the generation they
  // belong to (see status/task_status.hpp); plain stores on x86.
  const std::uint32_t attempt = record.attempt.load(std::memory_order_relaxed) + 1;
  record.attempt.store(attempt, std::memory_order_release);
  if (finished_.remembers()) {
    record.started_ns.store(batch != nullptr ? batch->start_time(clock_) : clock_.now_coarse_ns(),
                            std::memory_order_release);
  }
  RunningTask context(record, type, clock_, max_result_bytes_,
                      record.workflow != 0 ? workflows_->batch_of(record.workflow) : 0, *this);
  const std::int64_t hard_limit = type.options.hard_timeout.count();
  // Only a worker's attempt can be taken over by the watchdog (which then
  // replaces the worker); elsewhere a hard limit is not enforced.
  const bool hard_limited = hard_limit > 0 && batch != nullptr;
  const std::int64_t hard_deadline = hard_limit > 0 ? clock_.now_ns() + hard_limit : 0;
  if (hard_limited) {
    // If this attempt hangs, the watchdog replaces the worker and drain()
    // stops waiting for it: log what it finished before, first.
    batch->flush_completions();
    batch->begin_attempt(&record, hard_deadline);
  }
  Outcome outcome = Outcome::success();
  try {
    struct SlotRelease {  // frees the type's slot however the handler ends, unless it deferred
      TaskOutcomes* outcomes;
      TaskTypeEntry& type;
      const RunningTask& context;
      WorkerBatch* batch;
      ~SlotRelease() {
        if (type.gate && context.deferral_tag() == 0) outcomes->release_gate_slot(type, batch);
      }
    } slot_release{this, type, context, batch};
    outcome = type.handler(context);
  } catch (const std::exception& e) {
    outcome = type.options.exceptions_are_permanent ? Outcome::fail(e.what()) : Outcome::retry(e.what());
  } catch (...) {
    outcome = type.options.exceptions_are_permanent ? Outcome::fail("unknown exception")
                                                    : Outcome::retry("unknown exception");
  }
  if (context.deferral_tag() != 0) {
    end_deferring(record, type, context, batch, hard_limited, hard_deadline);
    return;
  }
  if (hard_limited && !batch->end_attempt(hard_deadline)) {
    drop_overrun(record, type, /*late_result=*/true);
    return;
  }
  const std::size_t too_large = context.result_too_large();
  finish(record, type, std::move(outcome), context.take_result(), too_large, batch);
}

void TaskOutcomes::drop_overrun(TaskRecord& record, TaskTypeEntry& type, bool late_result) {
  // The watchdog declared this attempt timed out and retried the task in a
  // new record; wait for it to finish copying, then drop the late result.
  while (!record.abandoned.load(std::memory_order_acquire)) std::this_thread::yield();
  if (late_result) type.counters.add(TaskEvent::late_result);
  tasks_.release(&record);
}

void TaskOutcomes::finish(TaskRecord& record, TaskTypeEntry& type, Outcome&& outcome, std::string&& result,
                          std::size_t result_too_large, WorkerBatch* batch) {
  if (result_too_large == 0 && result.size() > max_result_bytes_) result_too_large = result.size();
  if (outcome.kind() == Outcome::Kind::success && result_too_large != 0) {
    outcome = Outcome::fail("result of " + std::to_string(result_too_large) +
                            " bytes is over task_status.max_result_bytes (" + std::to_string(max_result_bytes_) + ")");
  }
  if (outcome.kind() == Outcome::Kind::success) {
    endings_.succeed(record, type, std::move(result), batch);
    return;
  }
  record_failure(record, type, outcome);
  const std::uint32_t attempt = record.attempt.load(std::memory_order_relaxed);
  if (outcome.kind() == Outcome::Kind::retry && attempt < type.options.retry.max_attempts) {
    const std::int64_t delay = outcome.retry_after_ns() >= 0
                                   ? outcome.retry_after_ns()
                                   : retry_delay(type.options.retry, attempt, jitter_bits()).count();
    type.counters.add(TaskEvent::retried);
    const std::int64_t due = clock_.now_ns() + delay;
    if (record.durable_id != 0) log_->retry_scheduled(record.durable_id, attempt, due);
    wait_until(record, due);
    return;
  }
  endings_.dead_letter(record, type, batch);
}

void TaskOutcomes::end_deferring(TaskRecord& record, TaskTypeEntry& type, RunningTask& context, WorkerBatch* batch,
                                 bool hard_limited, std::int64_t deadline) {
  const std::uint64_t tag = context.deferral_tag();
  if (hard_limited && !batch->end_attempt(deadline)) {
    // The handler overran its hard limit before it returned, and the task
    // went on in a new record: its handle (or what it handed over) is late,
    // counted once: here if it was handed over, else when it completes.
    const bool handed_over = take_back(record, tag);
    if (type.gate) release_gate_slot(type, batch);
    drop_overrun(record, type, handed_over);
    return;
  }
  if (deadline != 0) deadlines_.add(record, deadline);
  // Counted before the attempt becomes deferred, i.e. before this job ends:
  // a drain() that waits for this worker's job then sees it. acq_rel: the
  // count is ordered with the state change below.
  deferred_.fetch_add(1, std::memory_order_acq_rel);
  std::uint64_t expected = tag;
  // acq_rel: the handle's completer, whose CAS reads `deferred`, sees the
  // record as this thread left it; on failure (a completion was handed
  // over) this thread sees what the completer wrote.
  if (record.state_word.compare_exchange_strong(expected, with_state(tag, RecordState::deferred),
                                                std::memory_order_acq_rel, std::memory_order_acquire)) {
    return;  // the handle ends the attempt
  }
  take_back(record, tag);  // completed while the handler ran: it ends here
  if (deadline != 0) deadlines_.remove(record);
  if (type.gate) release_gate_slot(type, batch);
  finish(record, type, context.take_handed_over(), context.take_result(), 0, batch);
  deferred_.fetch_sub(1, std::memory_order_release);
}

bool TaskOutcomes::take_back(TaskRecord& record, std::uint64_t tag) {
  std::uint64_t expected = tag;
  // acq_rel on success: no completion came; one that comes later finds
  // `running` and is late. On failure, wait for the hand-over to end: its
  // writes to the context are visible after the acquire load of handed_over.
  if (!record.state_word.compare_exchange_strong(expected, state_word(generation_of(tag), RecordState::running),
                                                 std::memory_order_acq_rel, std::memory_order_acquire)) {
    while (record.state_word.load(std::memory_order_acquire) != with_state(tag, RecordState::handed_over)) {
      std::this_thread::yield();
    }
    // relaxed: only this thread holds the record now; later publications order it.
    record.state_word.store(state_word(generation_of(tag), RecordState::running), std::memory_order_relaxed);
    return true;
  }
  return false;
}

bool TaskOutcomes::complete_deferred(void* record_ptr, void* context, std::uint64_t tag, std::uint32_t type_index,
                                     Outcome&& outcome, std::string&& result) noexcept {
  auto& record = *static_cast<TaskRecord*>(record_ptr);
  TaskTypeEntry& type = registry_.at(type_index);
  const std::uint64_t deferred = with_state(tag, RecordState::deferred);
  // The record's memory is never freed while the engine lives, so reading a
  // word that has gone on to another task or attempt is harmless: it
  // matches neither tag, and the completion is late.
  std::uint64_t word = record.state_word.load(std::memory_order_acquire);
  for (;;) {
    if (word == deferred) {
      // acq_rel: this thread takes over the record as the worker left it.
      if (!record.state_word.compare_exchange_weak(word, state_word(generation_of(tag), RecordState::running),
                                                   std::memory_order_acq_rel, std::memory_order_acquire)) {
        continue;
      }
      if (type.options.hard_timeout.count() > 0) deadlines_.remove(record);
      // Any thread, even a task of this engine's: its records go back at once.
      if (type.gate) release_gate_slot(type, nullptr);
      finish(record, type, std::move(outcome), std::move(result), 0, nullptr);
      deferred_.fetch_sub(1, std::memory_order_release);
      return true;
    }
    if (word != tag) {
      type.counters.add(TaskEvent::late_result);
      return false;
    }
    // The handler has not returned yet: hand the outcome to its worker.
    // acquire: this thread may write into the handler's context, which the
    // worker reads after it sees handed_over.
    if (!record.state_word.compare_exchange_weak(word, with_state(tag, RecordState::handing_over),
                                                 std::memory_order_acquire, std::memory_order_acquire)) {
      continue;
    }
    static_cast<RunningTask*>(context)->hand_over(std::move(outcome), std::move(result));
    // release: the worker that reads handed_over sees the outcome written.
    record.state_word.store(with_state(tag, RecordState::handed_over), std::memory_order_release);
    return true;
  }
}

void TaskOutcomes::expire_deferred(std::int64_t now) {
  deadlines_.take_expired(
      now,
      [](TaskRecord& record) {
        std::uint64_t word = record.state_word.load(std::memory_order_acquire);
        // acq_rel: as a completer's, which this CAS beats or loses to.
        return state_of(word) == RecordState::deferred &&
               record.state_word.compare_exchange_strong(word, state_word(generation_of(word), RecordState::running),
                                                         std::memory_order_acq_rel, std::memory_order_relaxed);
      },
      [this](TaskRecord& record) {
        TaskTypeEntry& type = registry_.at(record.type);
        type.counters.add(TaskEvent::timed_out);
        if (type.gate) release_gate_slot(type, nullptr);
        finish(record, type,
               Outcome::retry("hard time limit of " + std::to_string(type.options.hard_timeout.count() / 1'000'000) +
                              " ms exceeded (deferred outcome not completed)"),
               {}, 0, nullptr);
        deferred_.fetch_sub(1, std::memory_order_release);
      });
}

void TaskOutcomes::record_failure(TaskRecord& record, TaskTypeEntry& type, const Outcome& outcome) {
  type.counters.add(TaskEvent::failed_attempt);
  record.failures.push_back(FailureEntry{clock_.now_ns(), record.attempt, outcome.message()});
}

void TaskOutcomes::release_gate_slot(TaskTypeEntry& type, WorkerBatch* batch) {
  // A loop, not recursion: a parked task that cannot be queued or was
  // cancelled passes the slot straight on to the next one.
  while (TaskRecord* next = type.gate->leave()) {
    // The slot passes to the parked task; it runs when a worker takes it.
    next->holds_gate_slot = true;
    if (const ShardSet::Slot slot = claim_slot(next->priority, batch)) {
      shards_.publish(slot, named_job(*next));
      return;
    }
    // Rings full. It was accepted, so it must not be dropped; this worker
    // must neither block nor run it here (a long line of parked tasks would
    // nest one handler call inside the other until the stack overflows). It
    // waits on the timer for room instead, holding its slot. A CAS: cancel()
    // may have won while it was parked (state queued).
    if (transition(*next, generation_of(*next), RecordState::queued, RecordState::waiting)) {
      delays_.schedule(*next, clock_.now_ns());
      return;
    }
    next->holds_gate_slot = false;  // cancelled: retire it, offer the slot on
    meet_cancelled(*next, type, batch);
  }
}

void TaskOutcomes::wait_until(TaskRecord& record, std::int64_t due_ns) {
  record.state_word.store(state_word(generation_of(record), RecordState::waiting), std::memory_order_release);
  delays_.schedule(record, due_ns);
}

std::int64_t TaskOutcomes::take_rate_turn(TaskRecord& record, TaskTypeEntry& type) {
  record.holds_rate_turn = true;
  const std::int64_t now = clock_.now_ns();
  const std::int64_t wait = type.limiter->reserve(now);
  if (wait == 0) return 0;
  type.counters.add(TaskEvent::rate_limited);
  return now + wait;
}

bool TaskOutcomes::make_ready(TaskRecord& record) {
  const std::uint32_t generation = generation_of(record);
  TaskTypeEntry& type = registry_.at(record.type);
  if (type.limiter && !record.holds_rate_turn && !record.holds_gate_slot &&
      state_of(record.state_word.load(std::memory_order_acquire)) == RecordState::waiting) {
    // Due (a delay, a retry, a restart): it takes its turn at the type's
    // rate first, and waits for it here. Still `waiting`: a cancel() that
    // comes meanwhile is met when the turn comes.
    if (const std::int64_t turn = take_rate_turn(record, type)) {
      delays_.schedule(record, turn);
      return true;
    }
  }
  if (!transition(record, generation, RecordState::waiting, RecordState::queued)) {
    // cancel() won while it waited.
    meet_cancelled(record, type, nullptr);
    return true;
  }
  if (const ShardSet::Slot slot = claim_slot(record.priority, nullptr)) {
    shards_.publish(slot, named_job(record));
    return true;
  }
  // Rings full: back to waiting; the scheduler offers it again next tick.
  // A CAS, not a store: cancel() may have moved it from queued meanwhile,
  // and a store would resurrect a task whose cancel() already returned true.
  if (!transition(record, generation, RecordState::queued, RecordState::waiting)) {
    meet_cancelled(record, type, nullptr);
    return true;
  }
  return false;
}

void TaskOutcomes::meet_cancelled(TaskRecord& record, TaskTypeEntry& type, WorkerBatch* batch) {
  // acq_rel: on success cancel() sees what this holder did to the record;
  // on failure (cancelled) this thread sees what cancel() did.
  std::uint64_t expected = state_word(generation_of(record), RecordState::cancelling);
  if (record.state_word.compare_exchange_strong(expected,
                                                state_word(generation_of(record), RecordState::left_to_canceller),
                                                std::memory_order_acq_rel, std::memory_order_acquire)) {
    return;  // cancel() is still logging it: it releases the record when done
  }
  retire_cancelled(record, type, batch);
}

void TaskOutcomes::retire_cancelled(TaskRecord& record, TaskTypeEntry& type, WorkerBatch* batch) {
  if (record.holds_gate_slot) {  // handed a slot, then cancelled: pass it on
    record.holds_gate_slot = false;
    release_gate_slot(type, batch);
  }
  endings_.retire(record, batch);
}

bool TaskOutcomes::cancel(TaskId id) {
  TaskRecord* record = tasks_.find(id);
  if (record == nullptr) return false;
  const auto generation = static_cast<std::uint32_t>(id >> 32);
  if (transition(*record, generation, RecordState::queued, RecordState::cancelling) ||
      transition(*record, generation, RecordState::waiting, RecordState::cancelling)) {
    // While cancelling, no one releases the record (see meet_cancelled), so
    // its fields are still this task's. The cancellation is logged, and on
    // disk as the fsync policy promises, before the caller hears "cancelled":
    // a cancelled task never runs again after a restart. In the task's own
    // stream, so it follows the task's submit (and retries) in the log.
    const std::uint64_t durable_id = record->durable_id;
    const std::uint64_t ticket = durable_id != 0 ? log_->cancelled(durable_id) : 0;
    registry_.at(record->type).counters.add(TaskEvent::cancelled);
    endings_.remember(*record, TaskState::cancelled, {}, {}, nullptr);
    // acquire on failure, not transition()'s relaxed: the holder met it
    // meanwhile and left it to us (left_to_canceller, its acq_rel CAS in
    // meet_cancelled). What the holder wrote to the record before that (the
    // delay scheduler's due_ns, say) must happen before our reset of it.
    std::uint64_t expected = state_word(generation, RecordState::cancelling);
    if (!record->state_word.compare_exchange_strong(expected, state_word(generation, RecordState::cancelled),
                                                    std::memory_order_acq_rel, std::memory_order_acquire)) {
      retire_cancelled(*record, registry_.at(record->type), nullptr);
    }
    // A failed log answers false here: the task will not run in this
    // process, but a restart would run it (docs/faults.md).
    if (ticket != 0) log_->wait(ticket);
    return true;
  }
  // Running: too late to cancel, but the handler may poll the request.
  if (generation_of(*record) == generation && is_running(state_of(record->state_word.load(std::memory_order_acquire)))) {
    record->stop_requested.store(true, std::memory_order_relaxed);
  }
  return false;
}

void TaskOutcomes::retry_overrun(TaskRecord* overrun, std::int64_t now) {
  TaskTypeEntry& type = registry_.at(overrun->type);
  type.counters.add(TaskEvent::timed_out);
  type.counters.add(TaskEvent::failed_attempt);
  overrun->stop_requested.store(true, std::memory_order_relaxed);  // for a handler that polls
  // The task goes on in a fresh record: the stuck thread still reads the old one.
  if (TaskRecord* next = tasks_.acquire()) {
    next->type = overrun->type;
    next->priority = overrun->priority;
    next->submit_ns = overrun->submit_ns;
    next->payload_and_key = overrun->payload_and_key;
    next->key_bytes = overrun->key_bytes;
    next->attempt.store(overrun->attempt.load(std::memory_order_relaxed), std::memory_order_relaxed);
    next->accepted_stamp.store(overrun->accepted_stamp.load(std::memory_order_relaxed), std::memory_order_relaxed);
    next->durable_id = overrun->durable_id;
    next->holds_credit = overrun->holds_credit;
    next->workflow = overrun->workflow;
    overrun->workflow = 0;
    next->failures = overrun->failures;
    next->failures.push_back(FailureEntry{now, overrun->attempt,
                                          "hard time limit of " + std::to_string(type.options.hard_timeout.count() / 1'000'000) +
                                              " ms exceeded"});
    overrun->durable_id = 0;
    overrun->holds_credit = false;
    if (next->attempt < type.options.retry.max_attempts) {
      const std::int64_t due = now + retry_delay(type.options.retry, next->attempt, jitter_bits()).count();
      type.counters.add(TaskEvent::retried);
      if (next->durable_id != 0) log_->retry_scheduled(next->durable_id, next->attempt, due);
      wait_until(*next, due);
    } else {
      endings_.dead_letter(*next, type, nullptr);
    }
  } else {
    // No record to retry in (max_named_tasks in use): it ends here, kept
    // in the dead-letter queue rather than lost.
    endings_.dead_letter_overrun(*overrun, type, now);
  }
  // release: everything above is done before the stuck worker drops its record.
  overrun->abandoned.store(true, std::memory_order_release);
}

}  // namespace brisk::detail

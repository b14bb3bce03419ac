#include "outcome/task_endings.hpp"

#include <memory>
#include <utility>

namespace brisk::detail {

void TaskEndings::succeed(TaskRecord& record, TaskTypeEntry& type, std::string&& result, WorkerBatch* batch) {
  type.counters.add(TaskEvent::succeeded);
  remember(record, TaskState::succeeded, {}, std::move(result), batch);
  if (record.durable_id != 0) {
    // A worker logs the completions of a batch together, when the batch
    // ends and before drain() can see it finished; any other thread at once.
    if (batch != nullptr) {
      batch->log_completion(record.durable_id);
    } else {
      log_completions({&record.durable_id, 1});
    }
  }
  retire(record, batch);
}

void TaskEndings::dead_letter(TaskRecord& record, TaskTypeEntry& type, WorkerBatch* batch) {
  DeadLetter letter;
  letter.id = task_id_of(record);
  letter.name = type.name;
  letter.payload = record.take_payload();
  letter.attempts = record.attempt.load(std::memory_order_relaxed);
  letter.durable_id = record.durable_id;
  // A chain step: its last failure names the steps that will not run.
  if (record.workflow != 0 && record.failures.size() != 0) {
    (record.failures.end() - 1)->message += workflows_->stopped_chain(record.workflow);
  }
  remember(record, TaskState::dead_lettered, record.failures.size() != 0 ? (record.failures.end() - 1)->message : "", {},
           nullptr);
  for (auto& f : record.failures) letter.failures.push_back({f.time_ns, f.attempt, std::move(f.message)});
  keep_dead_letter(dead_letters_, log_, std::move(letter), /*newly_dead=*/true);
  type.counters.add(TaskEvent::dead_lettered);
  retire(record, batch);
}

void TaskEndings::dead_letter_overrun(TaskRecord& overrun, TaskTypeEntry& type, std::int64_t now) {
  // A copy of the payload, not take_payload(): the stuck handler may still
  // read it. The record itself is not retired here (its worker drops it).
  DeadLetter letter;
  letter.id = task_id_of(overrun);
  letter.durable_id = overrun.durable_id;
  letter.name = type.name;
  letter.payload = overrun.payload();
  letter.attempts = overrun.attempt;
  for (const FailureEntry& f : overrun.failures) letter.failures.push_back({f.time_ns, f.attempt, f.message});
  letter.failures.push_back({now, overrun.attempt, "hard time limit exceeded; no record free to retry"});
  remember(overrun, TaskState::dead_lettered, letter.failures.back().message, {}, nullptr);
  keep_dead_letter(dead_letters_, log_, std::move(letter), /*newly_dead=*/true);
  type.counters.add(TaskEvent::dead_lettered);
  if (overrun.holds_credit) return_credits(1);
  overrun.durable_id = 0;
  overrun.holds_credit = false;
}

void TaskEndings::retire(TaskRecord& record, WorkerBatch* batch) {
  const bool credit = record.holds_credit;
  // On a worker the record joins the batch's chain, given back in one push
  // when the batch ends; anywhere else, at once.
  if (batch != nullptr) {
    batch->release_record(record);
  } else {
    tasks_.release(&record);
  }
  if (credit) return_credits(1);
}

void TaskEndings::remember(TaskRecord& record, TaskState state, std::string_view last_error, std::string&& result,
                           WorkerBatch* batch) {
  if (record.workflow != 0) {
    // Its batch counts it; a chain's next step runs with its result.
    workflows_->finished(record.workflow, state, finished_.wanted() ? std::string(result) : std::move(result));
    record.workflow = 0;
  }
  if (!finished_.wanted()) return;
  FinishedTask task;
  FinishedFields& fields = task.fields;
  fields.id = task_id_of(record);
  fields.state = state;
  fields.attempts = record.attempt.load(std::memory_order_relaxed);
  fields.finished_ns = clock_.now_coarse_ns();
  fields.accepted_stamp = record.accepted_stamp.load(std::memory_order_relaxed);
  fields.started_ns = record.started_ns.load(std::memory_order_relaxed);
  if (!last_error.empty() || !result.empty()) {
    task.texts = std::make_unique<FinishedTask::Texts>(FinishedTask::Texts{std::string(last_error), std::move(result)});
  }
  const std::int64_t finished_ns = fields.finished_ns;
  // The next task's start, unless callbacks ran here since the reading.
  if (finished_.add(std::move(task), record.ended_generation) == 0 && batch != nullptr) batch->ended_at(finished_ns);
}

std::size_t TaskEndings::purge_dead_letters() {
  std::size_t purged = 0;
  if (const std::uint64_t ticket = brisk::detail::purge_dead_letters(dead_letters_, log_, &purged)) {
    log_->wait(ticket);
  }
  return purged;
}

void TaskEndings::log_completions(std::span<const std::uint64_t> durable_ids) { log_->completed(durable_ids); }

void TaskEndings::return_credits(std::int64_t n) {
  credits_.observe_return_rate(clock_.now_ns(), n);
  credits_.give_back(n);
}

}  // namespace brisk::detail

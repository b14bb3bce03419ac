// EngineCore's hard time limits: the watchdog's check, which retries an
// overrunning attempt in a fresh record and replaces its stuck worker
// (docs/architecture.md says exactly what a hard limit can and cannot do).
#include "core/engine_core.hpp"
#include "retry/backoff.hpp"

namespace brisk::detail {

void EngineCore::enforce_hard_limits() {
  const std::int64_t now = now_ns();
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    Worker& stuck = workers_[i];
    if (stuck.replaced()) continue;
    TaskRecord* overrun = stuck.take_overrun(now);
    if (overrun == nullptr) continue;
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
      next->attempt = overrun->attempt;
      next->durable_id = overrun->durable_id;
      next->holds_credit = overrun->holds_credit;
      next->failures = overrun->failures;
      next->failures.push_back(FailureEntry{now, overrun->attempt,
                                            "hard time limit of " + std::to_string(type.options.hard_timeout.count() / 1'000'000) +
                                                " ms exceeded"});
      overrun->durable_id = 0;
      overrun->holds_credit = false;
      if (next->attempt < type.options.retry.max_attempts) {
        const std::int64_t due = now + retry_delay(type.options.retry, next->attempt, jitter_bits()).count();
        type.counters.add(TaskEvent::retried);
        if (next->durable_id != 0) wal_->retry_scheduled(next->durable_id, next->attempt, due);
        wait_until(*next, due);
      } else {
        dead_letter(*next, type);
      }
    } else {
      // No record to retry in (max_named_tasks in use): it ends here, kept
      // in the dead-letter queue rather than lost.
      DeadLetter letter;
      letter.id = task_id_of(*overrun);
      letter.durable_id = overrun->durable_id;
      letter.name = type.name;
      letter.payload = overrun->payload();
      letter.attempts = overrun->attempt;
      for (const FailureEntry& f : overrun->failures) letter.failures.push_back({f.time_ns, f.attempt, f.message});
      letter.failures.push_back({now, overrun->attempt, "hard time limit exceeded; no record free to retry"});
      keep_dead_letter(dead_letters_, wal_.get(), std::move(letter), /*newly_dead=*/true);
      type.counters.add(TaskEvent::dead_lettered);
      if (overrun->holds_credit) return_credits(1);
      overrun->durable_id = 0;
      overrun->holds_credit = false;
    }
    // release: everything above is done before the stuck worker drops its record.
    overrun->abandoned.store(true, std::memory_order_release);
    // Restore capacity: a new thread takes over the stuck worker's shard.
    auto fresh = std::make_unique<Worker>(*this, stuck.index(), stuck.cpu());
    Worker* started = fresh.get();
    if (workers_.add(std::move(fresh))) {
      stuck.mark_replaced();
      started->start();
    }
  }
}

}  // namespace brisk::detail

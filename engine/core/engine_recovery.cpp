// EngineCore at start() with a write-ahead log: lock the directory, replay
// the log, bring back idempotency keys, dead letters and incomplete tasks.
#include <algorithm>
#include <filesystem>
#include <system_error>

#include "core/engine_core.hpp"

namespace brisk::detail {

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
  RecoveryReport& report = recovery_report_;
  report.records = state.report.records;
  report.bytes = state.report.bytes;
  for (const wal::Damage& d : state.report.damage) {
    report.bytes_dropped += d.bytes;
    report.damage.push_back(d.file + " at offset " + std::to_string(d.offset) + ": " + d.reason + " (" +
                            std::to_string(d.bytes) + " bytes " +
                            (d.kind == wal::Damage::Kind::torn_tail ? "cut)" : "skipped)"));
  }
  // point_in_time stopped before these files: not read at all, and renamed
  // to *.damaged by the log's open. Reported here too, so that the report
  // accounts for everything that was not replayed.
  for (const std::string& name : state.report.dropped_files) {
    std::error_code ec;
    const std::string kept = name + ".damaged";
    const auto size = std::filesystem::file_size(std::filesystem::path(config_.durability.wal_dir) / kept, ec);
    if (!ec) report.bytes_dropped += size;
    report.damage.push_back(name + ": not read, recovery stopped at earlier damage (" +
                            (ec ? std::string("size unknown") : std::to_string(size) + " bytes") + ", kept as " +
                            kept + ")");
  }
  for (const wal::IdempotencyKey& k : state.idempotency_keys) {
    idempotency_.restore(k.key, k.id, wal_->to_engine(k.accepted_ns));
    ++report.keys_restored;
  }
  for (const TaskId id : state.orphan_dead_letters) {
    report.damage.push_back("dead letter for durable task " + std::to_string(id) +
                            ": its submit record was lost to damage; name and payload unknown, not restored");
  }
  // A log may hold more letters than the queue keeps (a smaller
  // dead_letter_capacity than before): the oldest are dropped, and logged
  // as dropped, so that the next restart does not restore them again.
  for (DeadLetter& letter : state.dead_letters) {
    letter.durable_id = letter.id;
    for (AttemptFailure& f : letter.failures) f.time_ns = wal_->to_engine(f.time_ns);
    keep_dead_letter(dead_letters_, wal_.get(), std::move(letter), /*newly_dead=*/false);
  }
  // Batches first: their members below join them again.
  for (const wal::RecoveredBatch& batch : state.batches) workflows_.restore(batch.image);
  std::size_t unknown_names = 0;
  const std::int64_t now = now_ns();
  for (const wal::TaskImage& image : state.incomplete) {
    const std::int64_t type = registry_.find(image.type_name);
    if (type < 0) {
      // Logged under a name this build does not register: keep it, visibly.
      DeadLetter letter;
      letter.id = letter.durable_id = image.id;
      letter.name = image.type_name;
      letter.payload = image.payload;
      letter.attempts = image.attempt;
      letter.failures.push_back({now, image.attempt, "no handler registered for this task name after restart"});
      keep_dead_letter(dead_letters_, wal_.get(), std::move(letter), /*newly_dead=*/true);
      // Its batch counts it, as the log will (dead-lettered).
      if (const std::uint32_t link = workflows_.relink(image); link != 0) {
        workflows_.finished(link, TaskState::dead_lettered, {});
      }
      ++unknown_names;
      continue;
    }
    TaskRecord* record = tasks_.acquire();
    if (record == nullptr) {
      throw RecoveryError("brisk: the log holds more incomplete tasks than max_named_tasks (" +
                          std::to_string(config_.max_named_tasks) + ")");
    }
    record->type = static_cast<std::uint32_t>(type);
    record->priority = image.priority < config_.priority_lanes ? image.priority : priority::normal;
    record->submit_ns = wal_->to_engine(image.submit_ns);
    record->set_payload(std::string(image.payload), image.idempotency_key);
    record->attempt.store(image.attempt, std::memory_order_relaxed);
    // Accepted before the restart: its stamp lies that far in the past.
    const std::int64_t age = std::max<std::int64_t>(0, now - record->submit_ns);
    record->accepted_stamp.store(ticks_.now() - ticks_.to_ticks(static_cast<std::uint64_t>(age)),
                                 std::memory_order_release);
    record->durable_id = image.id;
    record->workflow = workflows_.relink(image);  // its batch and the chain steps after it
    registry_.at(record->type).counters.add(TaskEvent::accepted);
    // Due ones too go through the scheduler, which retries when rings are full.
    const std::int64_t due = image.run_at_ns != 0 ? wal_->to_engine(image.run_at_ns) : now;
    outcomes_.wait_until(*record, due);
    ++report.tasks_requeued;
  }
  // The restored letters are older than those made above for unknown names,
  // so a full queue dropped them first: what it holds beyond those is what
  // was restored and kept.
  const std::size_t kept = dead_letters_.size();
  report.dead_letters_restored = kept - std::min(kept, unknown_names);
}

bool EngineCore::is_durable(const SubmitResult& r) const noexcept {
  return r.durable_ticket != 0 && wal_ && wal_->acked(r.durable_ticket);
}

bool EngineCore::wait_durable(const SubmitResult& r) const {
  return r.durable_ticket != 0 && wal_ && wal_->wait(r.durable_ticket);
}

}  // namespace brisk::detail

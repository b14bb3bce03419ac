#include "restart/log_replay.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

namespace brisk::detail {

RecoveryReport replay_into_engine(wal::RecoveredState& state, const ReplayTargets& t) {
  RecoveryReport report;
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
    const auto size = std::filesystem::file_size(std::filesystem::path(t.wal_dir) / kept, ec);
    if (!ec) report.bytes_dropped += size;
    report.damage.push_back(name + ": not read, recovery stopped at earlier damage (" +
                            (ec ? std::string("size unknown") : std::to_string(size) + " bytes") + ", kept as " +
                            kept + ")");
  }
  for (const wal::IdempotencyKey& k : state.idempotency_keys) {
    t.idempotency.restore(k.key, k.id, t.log.to_engine(k.accepted_ns));
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
    for (AttemptFailure& f : letter.failures) f.time_ns = t.log.to_engine(f.time_ns);
    keep_dead_letter(t.dead_letters, &t.log, std::move(letter), /*newly_dead=*/false);
  }
  // Batches first: their members below join them again.
  for (const wal::RecoveredBatch& batch : state.batches) t.workflows.restore(batch.image);
  std::size_t unknown_names = 0;
  const std::int64_t now = t.now_ns;
  for (const wal::TaskImage& image : state.incomplete) {
    const std::int64_t type = t.registry.find(image.type_name);
    if (type < 0) {
      // Logged under a name this build does not register: keep it, visibly.
      DeadLetter letter;
      letter.id = letter.durable_id = image.id;
      letter.name = image.type_name;
      letter.payload = image.payload;
      letter.attempts = image.attempt;
      letter.failures.push_back({now, image.attempt, "no handler registered for this task name after restart"});
      keep_dead_letter(t.dead_letters, &t.log, std::move(letter), /*newly_dead=*/true);
      // Its batch counts it, as the log will (dead-lettered).
      if (const std::uint32_t link = t.workflows.relink(image); link != 0) {
        t.workflows.finished(link, TaskState::dead_lettered, {});
      }
      ++unknown_names;
      continue;
    }
    TaskRecord* record = t.tasks.acquire();
    if (record == nullptr) {
      throw RecoveryError("brisk: the log holds more incomplete tasks than max_named_tasks (" +
                          std::to_string(t.max_named_tasks) + ")");
    }
    record->type = static_cast<std::uint32_t>(type);
    record->priority = image.priority < t.priority_lanes ? image.priority : priority::normal;
    record->submit_ns = t.log.to_engine(image.submit_ns);
    record->set_payload(std::string(image.payload), image.idempotency_key);
    record->attempt.store(image.attempt, std::memory_order_relaxed);
    // Accepted before the restart: its stamp lies that far in the past.
    const std::int64_t age = std::max<std::int64_t>(0, now - record->submit_ns);
    record->accepted_stamp.store(t.ticks.now() - t.ticks.to_ticks(static_cast<std::uint64_t>(age)),
                                 std::memory_order_release);
    record->durable_id = image.id;
    record->workflow = t.workflows.relink(image);  // its batch and the chain steps after it
    t.registry.at(record->type).counters.add(TaskEvent::accepted);
    // Due ones too go through the scheduler, which retries when rings are full.
    const std::int64_t due = image.run_at_ns != 0 ? t.log.to_engine(image.run_at_ns) : now;
    t.outcomes.wait_until(*record, due);
    ++report.tasks_requeued;
  }
  // The restored letters are older than those made above for unknown names,
  // so a full queue dropped them first: what it holds beyond those is what
  // was restored and kept.
  const std::size_t kept = t.dead_letters.size();
  report.dead_letters_restored = kept - std::min(kept, unknown_names);
  return report;
}

}  // namespace brisk::detail

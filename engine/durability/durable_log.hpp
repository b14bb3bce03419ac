// DurableLog: the engine's side of the write-ahead log.
//
// Translates task lifecycle events into WAL records (engine/wal) and back:
// durable ids (unique across restarts, unlike TaskIds, which name table
// slots: the log hands them out, see Wal::append_numbered), log streams
// (each producer thread submits into its own, so producers share no lock),
// and times (the engine clock is monotonic and restarts with
// the process, so the log stores wall-clock times and converts at the edges).
// Only named tasks submitted with durability pass through here; post() never
// touches it.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "brisk/clock.hpp"
#include "brisk/dead_letter.hpp"
#include "brisk/durability.hpp"
#include "dlq/dead_letter_queue.hpp"
#include "task/task_record.hpp"
#include "wal/log_writer.hpp"
#include "wal/recovery.hpp"

namespace brisk::detail {

class DurableLog {
 public:
  // Opens (recovering) the log. Throws RecoveryError when the recovery mode
  // refuses the log, ConfigError for an unusable directory.
  // `trace`: the engine's switch; the log's writer traces its batches and
  // fsyncs while it is on.
  DurableLog(const DurabilityConfig& config, const Clock& clock, std::int64_t key_retention_ns,
             wal::RecoveredState* recovered, trace::TraceSwitch* trace = nullptr);
  ~DurableLog();

  // False when a task with these fields would be over the log's record
  // limit (wal::kMaxPayloadSize): the log would refuse its append.
  static bool fits_in_a_record(std::string_view type_name, std::string_view payload, std::string_view key) noexcept;
  // False when engine_ns converted to wall-clock time overflows int64.
  bool fits_wall_clock(std::int64_t engine_ns) const noexcept {
    return wall_minus_engine_ <= 0 || engine_ns <= std::numeric_limits<std::int64_t>::max() - wall_minus_engine_;
  }

  // Each returns the record's ticket (a WalTicket's value), or 0 when the
  // log has failed.
  // submitted() also gives the task its durable id (record.durable_id), in
  // the calling thread's log stream, or in `same_stream_as`'s when that is
  // not 0: a replayed dead letter's new task must be logged ahead of the
  // DlqReplayed record that follows it, and only one stream keeps order.
  // `workflow`: the task's part in a batch or chain (nullptr: none).
  std::uint64_t submitted(TaskRecord& record, std::string_view type_name, std::string_view key,
                          std::uint64_t same_stream_as = 0, const wal::Workflow* workflow = nullptr);
  // A batch (wal::Workflow, role batch) as its own image: opened (its id,
  // unique across restarts, in *id), logged again when sealed, and done
  // (a completion of its id) once its callbacks were submitted.
  std::uint64_t batch_opened(const wal::Workflow& batch, std::uint64_t* id);
  std::uint64_t batch_sealed(std::uint64_t id, const wal::Workflow& batch);
  std::uint64_t batch_done(std::uint64_t id) { return completed({&id, 1}); }
  // False when a batch's image would be over the log's record limit.
  static bool fits_in_a_record(const wal::Workflow& batch) noexcept;
  std::uint64_t completed(std::span<const std::uint64_t> durable_ids);
  std::uint64_t retry_scheduled(std::uint64_t durable_id, std::uint32_t attempt, std::int64_t due_engine_ns);
  std::uint64_t dead_lettered(std::uint64_t durable_id, std::uint32_t attempts,
                              const std::vector<AttemptFailure>& failures);
  std::uint64_t cancelled(std::uint64_t durable_id);
  std::uint64_t dlq_replayed(std::uint64_t durable_id);
  std::uint64_t dlq_dropped(std::uint64_t durable_id);
  std::uint64_t dlq_purged();

  bool acked(std::uint64_t ticket) const noexcept { return wal_->ready(wal::WalTicket{ticket}) && !wal_->failed(); }
  bool wait(std::uint64_t ticket) const { return wal_->wait(wal::WalTicket{ticket}).is_ok(); }
  bool failed() const noexcept { return wal_->failed(); }
  std::string failure_message() const { return wal_->status().message(); }
  wal::WalStats stats() const { return wal_->stats(); }
  const wal::WalObservations& observations() const noexcept { return wal_->observations(); }
  void close() { wal_->close(); }

  std::int64_t to_wall(std::int64_t engine_ns) const noexcept { return engine_ns + wall_minus_engine_; }
  std::int64_t to_engine(std::int64_t wall_ns) const noexcept { return wall_ns - wall_minus_engine_; }

 private:
  std::unique_ptr<wal::Wal> wal_;
  std::int64_t wall_minus_engine_ = 0;
};

// Adds a letter to the bounded queue, for every path that makes one. With a
// log, and under the queue's lock (so that the log's order is the queue's):
// a newly dead letter is logged dead-lettered (newly_dead: not one restored
// from the log), and a durable letter the full queue pushes out is logged
// as dropped, else every restart would restore it only to drop it again.
void keep_dead_letter(DeadLetterQueue& queue, DurableLog* log, DeadLetter letter, bool newly_dead);
// Purges the queue and, with a log, logs the purge in the same step; returns
// the purge record's ticket (0: no log, or it failed) and the count in *purged.
std::uint64_t purge_dead_letters(DeadLetterQueue& queue, DurableLog* log, std::size_t* purged);

}  // namespace brisk::detail

#include "wal/log_writer.hpp"

#include <algorithm>

#include "platform/thread_number.hpp"
#include "wal/log_format.hpp"

namespace brisk::detail::wal {

// ---- open / close ----

Wal::Wal(WalOptions options, WalEnv& env)
    : options_(std::move(options)),
      env_(env),
      streams_(options_.max_pending_bytes, signal_),
      compactor_(env, options_.dir, options_.checkpoint_every_segments, options_.key_retention_ns,
                 options_.clock_ns),
      segments_(env, options_.dir, options_.segment_bytes, AppendStreams::kBuffers, observations_.fsync_ns,
                [this](std::uint32_t closed) { compactor_.segment_closed(closed); }),
      writer_({options_.fsync, options_.fsync_interval, options_.on_failure, options_.trace}, streams_, signal_,
              progress_, segments_, observations_) {}

Wal::~Wal() { close(); }

Status Wal::open(WalOptions options, std::unique_ptr<Wal>* wal, RecoveredState* recovered) {
  if (options.dir.empty()) return Status::invalid("WalOptions::dir is empty");
  if (options.segment_bytes < kFileHeaderSize + kRecordHeaderSize) return Status::invalid("segment_bytes is too small");
  if (options.fsync == FsyncPolicy::interval && options.fsync_interval.count() <= 0) {
    return Status::invalid("fsync_interval must be positive");
  }
  WalEnv& env = options.env != nullptr ? *options.env : WalEnv::posix();
  auto log = std::unique_ptr<Wal>(new Wal(std::move(options), env));
  const std::string& dir = log->options_.dir;
  if (Status s = env.create_dir(dir); !s) return s;
  if (Status s = remove_temporary_files(env, dir); !s) return s;

  StateBuilder builder;
  ReadReport report = read_into(env, dir, {log->options_.recovery_mode, 0}, &builder);
  if (!report.status) {
    recovered->report = std::move(report);
    return recovered->report.status;
  }
  const KeyRetention retention = log->compactor_.retention();
  *recovered = builder.finish(retention);
  recovered->last_sequence = report.last_sequence;

  // Start clean: fold everything read into a checkpoint, so that whatever
  // damage the recovery mode accepted is never met again.
  if (report.last_segment > report.checkpoint) {
    const CheckpointEnd end{report.last_segment, report.last_sequence, builder.max_task_id()};
    if (Status s = write_checkpoint(env, dir, builder, end, retention, nullptr); !s) return s;
    std::vector<std::string> damaged = report.dropped_files;
    std::vector<std::string> replaced = report.obsolete_files;
    for (const FileSummary& f : report.files) (f.damaged ? damaged : replaced).push_back(f.name);
    for (const std::string& name : damaged) {
      if (Status s = env.rename_file(join_path(dir, name), join_path(dir, name + ".damaged")); !s) return s;
    }
    for (const std::string& name : replaced) {
      if (Status s = env.remove_file(join_path(dir, name)); !s) return s;
    }
    if (Status s = env.sync_dir(dir); !s) return s;
  }
  const std::uint32_t next_segment = std::max(report.last_segment, report.checkpoint) + 1;
  recovered->report = std::move(report);

  // Above every id the log holds, and a multiple of kLogStreams, so that
  // the ids append_numbered derives from it keep their stream.
  log->id_base_ = (recovered->max_task_id / kLogStreams + 1) * kLogStreams;
  log->streams_.set_epoch(next_segment % (1u << WalTicket::kEpochBits));
  if (Status s = log->segments_.start(next_segment, recovered->last_sequence + 1); !s) return s;
  log->compactor_.start(next_segment - 1);  // before the writer, which may ask it to fold
  log->writer_.start();
  *wal = std::move(log);
  return Status::ok();
}

Status Wal::close() {
  {
    std::lock_guard lock(signal_.mutex);
    if (closed_) return signal_.failure;
    closed_ = true;
    signal_.closing = true;
    streams_.refuse();  // before the writer can see closing: see AppendStreams::refuse()
  }
  signal_.wakeup.notify_one();
  streams_.release_waiting_producers();
  writer_.join();
  compactor_.stop();
  const Status closed = segments_.close();
  std::lock_guard lock(signal_.mutex);
  if (signal_.failure.is_ok() && !closed) signal_.failure = closed;
  return signal_.failure;
}

// ---- appends ----

namespace {
// A record about one task goes to its id's stream (records.hpp).
template <class Record>
WalTicket append_to_task_stream(AppendStreams& streams, TaskId id, const Record& record) {
  return streams.append(stream_of(id), AppendStreams::kMainLane, type_of(record),
                        [&](std::string& out, std::uint64_t) { encode(out, record); });
}
}  // namespace

WalTicket Wal::append(const TaskImageRef& task) { return append_to_task_stream(streams_, task.id, task); }
WalTicket Wal::append(const TaskRetryScheduled& record) { return append_to_task_stream(streams_, record.id, record); }
WalTicket Wal::append(const TaskDeadLettered& record) { return append_to_task_stream(streams_, record.id, record); }
WalTicket Wal::append(const TaskCancelled& record) { return append_to_task_stream(streams_, record.id, record); }
WalTicket Wal::append(const DlqReplayed& record) { return append_to_task_stream(streams_, record.id, record); }
WalTicket Wal::append(const DlqDropped& record) { return append_to_task_stream(streams_, record.id, record); }

WalTicket Wal::append_numbered(TaskImageRef task, std::uint32_t stream, TaskId* id) {
  stream %= kLogStreams;
  return streams_.append(stream, AppendStreams::kMainLane, type_of(task), [&](std::string& out, std::uint64_t nth) {
    task.id = id_base_ + (nth - 1) * kLogStreams + stream;
    *id = task.id;
    encode(out, task);
  });
}

WalTicket Wal::append(const TaskCompletedRef& record) {
  if (record.ids.empty()) return {};  // lists no task: not a valid record
  return streams_.append(this_thread_number() % kLogStreams, AppendStreams::kCompletionLane,
                         RecordType::task_completed, [&](std::string& out, std::uint64_t) { encode(out, record); });
}

WalTicket Wal::append(const DlqPurged& record) {
  if (record.stream != kAllLogStreams) {
    return streams_.append(record.stream % kLogStreams, AppendStreams::kMainLane, RecordType::dlq_purged,
                           [&](std::string& out, std::uint64_t) { encode(out, record); });
  }
  return streams_.append_to_streams((1u << kLogStreams) - 1, RecordType::dlq_purged,
                                    [](std::string& out, std::uint32_t s) { encode(out, DlqPurged{s}); });
}

// ---- tickets ----

bool Wal::issued(WalTicket ticket) const noexcept {
  if (!ticket.valid() || ticket.epoch() != streams_.epoch() || ticket.nth() == 0) return false;
  // Acked ones were issued; only a ticket past the acked count needs the
  // stream's count, read under its lock (it is the producers').
  if (progress_[ticket.stream()].acked.value() >= ticket.nth()) return true;
  return ticket.nth() <= streams_.appended(ticket.stream());
}

bool Wal::ready(WalTicket ticket) const noexcept {
  if (!issued(ticket)) return false;
  return progress_[ticket.stream()].acked.value() >= ticket.nth() || failed();
}

Status Wal::wait(WalTicket ticket) const {
  if (!ticket.valid()) return refusal();
  if (!issued(ticket)) {
    return Status::invalid("ticket " + std::to_string(ticket.value) +
                           " was not issued by this open of the log (an earlier engine's, or made up)");
  }
  return progress_[ticket.stream()].acked.wait_for(ticket.nth()) ? Status::ok() : status();
}

Status Wal::refusal() const {
  std::lock_guard lock(signal_.mutex);
  if (!signal_.failure.is_ok()) return signal_.failure;
  if (signal_.closing) return Status::closed("the write-ahead log is closed");
  return Status::invalid("record payload exceeds " + std::to_string(kMaxPayloadSize) +
                         " bytes (or a completion lists no task)");
}

// ---- sync, compaction, status ----

Status Wal::sync() {
  // Everything appended before this call: each stream's count now.
  std::array<std::uint64_t, kLogStreams> targets;
  for (std::uint32_t s = 0; s < kLogStreams; ++s) targets[s] = streams_.appended(s);
  {
    std::lock_guard lock(signal_.mutex);
    if (!signal_.failure.is_ok()) return signal_.failure;
    ++signal_.sync_requests;  // the writer's next take comes after this: it covers the targets
  }
  signal_.wakeup.notify_one();
  for (std::uint32_t s = 0; s < kLogStreams; ++s) {
    if (!progress_[s].synced.wait_for(targets[s])) return status();
  }
  return Status::ok();
}

Status Wal::compact(CompactionResult* result) { return compactor_.compact_now(writer_.segment() - 1, result); }

Status Wal::status() const {
  std::lock_guard lock(signal_.mutex);
  return signal_.failure;
}

WalStats Wal::stats() const {
  WalStats s;
  s.records = writer_.records();
  s.batches = writer_.batches();
  s.bytes = writer_.bytes();
  s.syncs = writer_.syncs();
  s.largest_batch_bytes = writer_.largest_batch();
  s.segment = writer_.segment();
  s.checkpoints = compactor_.checkpoints();
  s.last_compaction = compactor_.last_compaction();
  return s;
}

}  // namespace brisk::detail::wal

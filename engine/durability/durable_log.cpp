#include "durability/durable_log.hpp"

#include <time.h>

#include "brisk/config.hpp"
#include "platform/thread_number.hpp"

namespace brisk::detail {

namespace {

std::int64_t wall_now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

DurableLog::DurableLog(const DurabilityConfig& config, const Clock& clock, std::int64_t key_retention_ns,
                       wal::RecoveredState* recovered, trace::TraceSwitch* trace)
    : wall_minus_engine_(wall_now_ns() - clock.now_ns()) {
  if (config.segment_bytes < 4096) throw ConfigError("durability.segment_bytes must be >= 4096");
  if (config.fsync_interval.count() <= 0) throw ConfigError("durability.fsync_interval must be > 0");
  wal::WalOptions options;
  options.dir = config.wal_dir;
  options.fsync = config.fsync;
  options.fsync_interval = config.fsync_interval;
  options.segment_bytes = config.segment_bytes;
  options.recovery_mode = config.recovery_mode;
  options.key_retention_ns = key_retention_ns;
  options.trace = trace;
  const wal::Status status = wal::Wal::open(options, &wal_, recovered);
  if (!status) {
    throw RecoveryError("brisk: cannot recover the write-ahead log in '" + config.wal_dir +
                        "' (recovery mode " + std::string(wal::to_string(options.recovery_mode)) +
                        "): " + status.to_string());
  }
}

bool DurableLog::fits_in_a_record(std::string_view type_name, std::string_view payload,
                                  std::string_view key) noexcept {
  // Sized with the widest id, due time and attempt count the task can ever
  // be logged with (varints grow with the value; a retried task is written
  // to checkpoints with its attempt and due time): a task that fits now
  // fits for good.
  wal::TaskImageRef image;
  image.id = std::numeric_limits<std::uint64_t>::max();
  image.type_name = type_name;
  image.payload = payload;
  image.run_at_ns = std::numeric_limits<std::int64_t>::min();
  image.attempt = std::numeric_limits<std::uint32_t>::max();
  image.idempotency_key = key;
  return wal::encoded_size(image) <= wal::kMaxPayloadSize;
}

// The type name a batch's own image is logged under (`brisk wal dump` shows it).
constexpr std::string_view kBatchImageName = "brisk.batch";

bool DurableLog::fits_in_a_record(const wal::Workflow& batch) noexcept {
  wal::TaskImageRef image;
  image.id = std::numeric_limits<std::uint64_t>::max();
  image.type_name = kBatchImageName;
  image.workflow = &batch;
  return wal::encoded_size(image) <= wal::kMaxPayloadSize;
}

DurableLog::~DurableLog() {
  if (wal_) wal_->close();
}

std::uint64_t DurableLog::submitted(TaskRecord& r, std::string_view type_name, std::string_view key,
                                    std::uint64_t same_stream_as, const wal::Workflow* workflow) {
  wal::TaskImageRef image;
  image.type_name = type_name;
  image.payload = r.payload();
  image.priority = r.priority;
  image.run_at_ns = r.due_ns != 0 ? to_wall(r.due_ns) : 0;
  image.attempt = r.attempt.load(std::memory_order_relaxed);
  image.idempotency_key = key;
  image.submit_ns = to_wall(r.submit_ns);
  image.workflow = workflow;
  // The thread number spreads producer threads over the streams, one each
  // for the first kLogStreams threads that submit.
  const std::uint32_t stream = same_stream_as != 0 ? wal::stream_of(same_stream_as)
                                                   : this_thread_number() % wal::kLogStreams;
  TaskId id = 0;
  const wal::WalTicket ticket = wal_->append_numbered(image, stream, &id);
  if (ticket.valid()) r.durable_id = id;
  return ticket.value;
}

std::uint64_t DurableLog::batch_opened(const wal::Workflow& batch, std::uint64_t* id) {
  wal::TaskImageRef image;
  image.type_name = kBatchImageName;
  image.submit_ns = wall_now_ns();
  image.workflow = &batch;
  const wal::WalTicket ticket = wal_->append_numbered(image, this_thread_number() % wal::kLogStreams, id);
  return ticket.value;
}

std::uint64_t DurableLog::batch_sealed(std::uint64_t id, const wal::Workflow& batch) {
  wal::TaskImageRef image;
  image.id = id;  // its stream: after its opening image
  image.type_name = kBatchImageName;
  image.submit_ns = wall_now_ns();
  image.workflow = &batch;
  return wal_->append(image).value;
}

std::uint64_t DurableLog::completed(std::span<const std::uint64_t> ids) {
  return wal_->append(wal::TaskCompletedRef{ids}).value;
}

std::uint64_t DurableLog::retry_scheduled(std::uint64_t id, std::uint32_t attempt, std::int64_t due_engine_ns) {
  return wal_->append(wal::TaskRetryScheduled{id, attempt, to_wall(due_engine_ns)}).value;
}

std::uint64_t DurableLog::dead_lettered(std::uint64_t id, std::uint32_t attempts,
                                        const std::vector<AttemptFailure>& failures) {
  wal::TaskDeadLettered record{id, attempts, failures};
  for (AttemptFailure& f : record.failures) f.time_ns = to_wall(f.time_ns);
  return wal_->append(record).value;
}

std::uint64_t DurableLog::cancelled(std::uint64_t id) { return wal_->append(wal::TaskCancelled{id}).value; }
std::uint64_t DurableLog::dlq_replayed(std::uint64_t id) { return wal_->append(wal::DlqReplayed{id}).value; }
std::uint64_t DurableLog::dlq_dropped(std::uint64_t id) { return wal_->append(wal::DlqDropped{id}).value; }
std::uint64_t DurableLog::dlq_purged() { return wal_->append(wal::DlqPurged{}).value; }

void keep_dead_letter(DeadLetterQueue& queue, DurableLog* log, DeadLetter letter, bool newly_dead) {
  queue.add(std::move(letter), [&](const DeadLetter& added, const DeadLetter* dropped) {
    if (log == nullptr) return;
    if (newly_dead && added.durable_id != 0) log->dead_lettered(added.durable_id, added.attempts, added.failures);
    if (dropped != nullptr && dropped->durable_id != 0) log->dlq_dropped(dropped->durable_id);
  });
}

std::uint64_t purge_dead_letters(DeadLetterQueue& queue, DurableLog* log, std::size_t* purged) {
  std::uint64_t ticket = 0;
  *purged = queue.purge([&] {
    if (log != nullptr) ticket = log->dlq_purged();
  });
  return ticket;
}

}  // namespace brisk::detail

#include "wal/log_writer.hpp"

#include <time.h>

#include <algorithm>

#include "platform/cpu_relax.hpp"
#include "wal/coding.hpp"
#include "wal/log_format.hpp"

namespace brisk::detail::wal {

std::string_view to_string(FsyncPolicy policy) noexcept {
  switch (policy) {
    case FsyncPolicy::always: return "always";
    case FsyncPolicy::interval: return "interval";
    case FsyncPolicy::never: return "never";
  }
  return "unknown";
}

namespace {

// Under `interval` and `never` no fdatasync paces the writer: left alone it
// would chase a stream of appends with a write() per handful of records (two
// producers: ~14 records, 1.5 KB, a batch). When records arrived while it
// was writing, so more are surely coming, it waits up to kLinger for
// kLingerBytes to gather first. A lone producer that waits for each ack
// never meets a linger: the writer finds nothing pending after its write.
constexpr auto kLinger = std::chrono::microseconds(50);
constexpr std::size_t kLingerBytes = 64u << 10;

// The log's mutex is held for one record's encode (tens of ns) or the
// writer's buffer swap: a thread that finds it taken retries for about as
// long rather than sleeping on a futex at once, whose sleep and wake cost
// both threads microseconds (and, on 2 CPUs, a context switch).
constexpr int kLockSpins = 64;

std::unique_lock<std::mutex> lock_spinning(std::mutex& m) {
  for (int i = 0; i < kLockSpins; ++i) {
    if (m.try_lock()) return std::unique_lock<std::mutex>(m, std::adopt_lock);
    cpu_relax();
  }
  return std::unique_lock<std::mutex>(m);
}

std::int64_t realtime_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

// ---- Watermark ----

void Wal::Watermark::advance(std::uint64_t lsn) noexcept {
  // Only the writer thread advances; fail() may race with it, hence the CAS.
  std::uint64_t w = word_.load(std::memory_order_relaxed);
  while ((w & ~kFailed) < lsn && !word_.compare_exchange_weak(w, (w & kFailed) | lsn, std::memory_order_release)) {
  }
  word_.notify_all();
}

void Wal::Watermark::fail() noexcept {
  word_.fetch_or(kFailed, std::memory_order_release);
  word_.notify_all();
}

bool Wal::Watermark::wait_for(std::uint64_t lsn) const noexcept {
  for (;;) {
    const std::uint64_t w = word_.load(std::memory_order_acquire);
    if ((w & ~kFailed) >= lsn) return true;
    if ((w & kFailed) != 0) return false;
    word_.wait(w, std::memory_order_acquire);
  }
}

// ---- open / close ----

Wal::Wal(WalOptions options, WalEnv& env)
    : options_(std::move(options)),
      env_(env),
      // Half of max_pending_bytes at most: producers block at the whole.
      linger_bytes_(std::min(kLingerBytes, options_.max_pending_bytes / 2)) {}

Wal::~Wal() { close(); }

KeyRetention Wal::retention() const {
  return {options_.key_retention_ns, options_.clock_ns ? options_.clock_ns() : realtime_ns()};
}

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
  const KeyRetention retention = log->retention();
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

  const std::uint64_t last = recovered->last_sequence;
  log->next_lsn_ = last + 1;
  log->written_lsn_ = log->synced_lsn_ = last;
  log->acked_.advance(last);
  log->written_.advance(last);
  log->synced_.advance(last);
  log->compacted_through_ = next_segment - 1;
  if (Status s = log->open_segment(next_segment, last + 1); !s) return s;
  log->last_sync_ = std::chrono::steady_clock::now();
  log->writer_ = std::thread([w = log.get()] { w->writer_loop(); });
  log->compactor_ = std::thread([w = log.get()] { w->compactor_loop(); });
  *wal = std::move(log);
  return Status::ok();
}

Status Wal::close() {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return failure_;
    closed_ = true;
    closing_ = true;
  }
  writer_wakeup_.notify_one();
  space_available_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lock(compactor_mutex_);
    compactor_stop_ = true;
  }
  compactor_wakeup_.notify_one();
  if (compactor_.joinable()) compactor_.join();
  Status closed;
  if (file_) closed = file_->close();
  std::lock_guard lock(mutex_);
  if (failure_.is_ok() && !closed) failure_ = closed;
  return failure_;
}

// ---- producers ----

template <class EncodeBody>
WalTicket Wal::append_framed(RecordType type, const EncodeBody& encode_body) {
  std::unique_lock lock = lock_spinning(mutex_);
  space_available_.wait(lock, [this] {
    return pending_.size() < options_.max_pending_bytes || closing_ || !failure_.is_ok();
  });
  if (closing_ || !failure_.is_ok()) return {};
  const std::size_t start = begin_record(pending_, type, next_lsn_);
  encode_body(pending_, next_lsn_);
  if (pending_.size() - start - kRecordHeaderSize > kMaxPayloadSize) {
    pending_.resize(start);
    return {};
  }
  end_record(pending_, start);
  const WalTicket ticket{next_lsn_++};
  const bool lingering_batch_full = start < linger_bytes_ && pending_.size() >= linger_bytes_;
  lock.unlock();
  // The writer sleeps only when nothing is pending (wake it on the first
  // record) or while it lingers for kLingerBytes.
  if (start == 0 || lingering_batch_full) writer_wakeup_.notify_one();
  return ticket;
}

template <class Record>
WalTicket Wal::append_record(const Record& record) {
  return append_framed(type_of(record), [&](std::string& out, std::uint64_t) { encode(out, record); });
}

WalTicket Wal::append(const TaskImageRef& task) { return append_record(task); }
WalTicket Wal::append_numbered(TaskImageRef task, std::uint64_t id_offset) {
  return append_framed(type_of(task), [&](std::string& out, std::uint64_t lsn) {
    task.id = lsn + id_offset;
    encode(out, task);
  });
}
WalTicket Wal::append(const TaskCompletedRef& record) { return append_record(record); }
WalTicket Wal::append(const TaskRetryScheduled& record) { return append_record(record); }
WalTicket Wal::append(const TaskDeadLettered& record) { return append_record(record); }
WalTicket Wal::append(const TaskCancelled& record) { return append_record(record); }
WalTicket Wal::append(const DlqReplayed& record) { return append_record(record); }
WalTicket Wal::append(const DlqPurged& record) { return append_record(record); }

bool Wal::ready(WalTicket ticket) const noexcept { return acked_.value() >= ticket.lsn || acked_.failed(); }

Status Wal::wait(WalTicket ticket) const {
  if (!ticket.valid()) return refusal();
  return acked_.wait_for(ticket.lsn) ? Status::ok() : status();
}

Status Wal::refusal() const {
  std::lock_guard lock(mutex_);
  if (!failure_.is_ok()) return failure_;
  if (closing_) return Status::closed("the write-ahead log is closed");
  return Status::invalid("record payload exceeds " + std::to_string(kMaxPayloadSize) + " bytes");
}

Status Wal::sync() {
  std::uint64_t target;
  {
    std::lock_guard lock(mutex_);
    if (!failure_.is_ok()) return failure_;
    target = next_lsn_ - 1;
    sync_requested_ = std::max(sync_requested_, target);
  }
  writer_wakeup_.notify_one();
  return synced_.wait_for(target) ? Status::ok() : status();
}

Status Wal::status() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

WalStats Wal::stats() const {
  WalStats s;
  s.records = stat_records_.load(std::memory_order_relaxed);
  s.batches = stat_batches_.load(std::memory_order_relaxed);
  s.bytes = stat_bytes_.load(std::memory_order_relaxed);
  s.syncs = stat_syncs_.load(std::memory_order_relaxed);
  s.largest_batch_bytes = stat_largest_batch_.load(std::memory_order_relaxed);
  s.segment = stat_segment_.load(std::memory_order_relaxed);
  std::lock_guard lock(compaction_mutex_);
  s.checkpoints = checkpoints_;
  s.last_compaction = last_compaction_;
  return s;
}

// ---- the writer thread ----

void Wal::writer_loop() {
  const bool interval = options_.fsync == FsyncPolicy::interval;
  const bool may_linger = options_.fsync != FsyncPolicy::always;
  for (;;) {
    std::uint64_t batch_last;
    std::uint64_t sync_target;
    bool closing;
    {
      std::unique_lock lock = lock_spinning(mutex_);
      const bool streaming = !pending_.empty();  // records came while we wrote
      const auto has_work = [this] { return !pending_.empty() || closing_ || sync_requested_ > synced_lsn_; };
      if (interval && written_lsn_ > synced_lsn_) {
        writer_wakeup_.wait_until(lock, last_sync_ + options_.fsync_interval, has_work);
      } else {
        writer_wakeup_.wait(lock, has_work);
      }
      if (may_linger && streaming) {
        writer_wakeup_.wait_for(lock, kLinger, [this] {
          return pending_.size() >= linger_bytes_ || closing_ || sync_requested_ > synced_lsn_;
        });
      }
      batch_.swap(pending_);
      batch_last = next_lsn_ - 1;
      sync_target = sync_requested_;
      closing = closing_;
    }
    space_available_.notify_all();

    Status s;
    if (!batch_.empty()) {
      s = write_batch();
      if (s) written_lsn_ = batch_last;
      batch_.clear();
    }
    const auto now = std::chrono::steady_clock::now();
    const bool sync_due = options_.fsync == FsyncPolicy::always || closing || sync_target > synced_lsn_ ||
                          (interval && now >= last_sync_ + options_.fsync_interval);
    if (s && sync_due && written_lsn_ > synced_lsn_) {
      s = file_->sync();
      if (s) {
        synced_lsn_ = written_lsn_;
        segment_synced_ = segment_size_;
        last_sync_ = now;
        stat_syncs_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (!s) {
      fail(s);
      return;
    }
    const std::uint64_t acked_before = acked_.value();
    written_.advance(written_lsn_);
    synced_.advance(synced_lsn_);
    acked_.advance(options_.fsync == FsyncPolicy::always ? synced_lsn_ : written_lsn_);
    if (options_.on_ack && acked_.value() != acked_before) options_.on_ack(acked_.value());
    if (closing) return;  // appends stopped before this batch was taken: all of it is out
  }
}

Status Wal::write_batch() {
  stat_batches_.fetch_add(1, std::memory_order_relaxed);
  stat_bytes_.fetch_add(batch_.size(), std::memory_order_relaxed);
  if (batch_.size() > stat_largest_batch_.load(std::memory_order_relaxed)) {
    stat_largest_batch_.store(batch_.size(), std::memory_order_relaxed);
  }
  std::uint64_t records = 0;
  std::size_t chunk = 0;
  for (std::size_t at = 0; at < batch_.size(); ++records) {
    char* record = batch_.data() + at;
    const std::size_t size = kRecordHeaderSize + load_u32(record + 4);
    checksum_record(record);
    // A record never spans segments: close this one first if it would not
    // fit, unless the segment holds nothing yet (a huge record gets its own).
    const std::uint64_t used = segment_size_ + (at - chunk);
    if (used + size > options_.segment_bytes && used > kFileHeaderSize) {
      if (Status s = write_chunk(std::string_view(batch_).substr(chunk, at - chunk)); !s) return s;
      if (Status s = rotate(load_u64(record + 9)); !s) return s;
      chunk = at;
    }
    at += size;
  }
  stat_records_.fetch_add(records, std::memory_order_relaxed);
  return write_chunk(std::string_view(batch_).substr(chunk));
}

Status Wal::write_chunk(std::string_view chunk) {
  if (chunk.empty()) return Status::ok();
  // Lead with a sync mark whenever more of the file became durable since the
  // last one: it lets recovery tell a torn tail from damage to synced data.
  mark_.clear();
  if (segment_synced_ != segment_marked_) {
    const std::size_t start = begin_record(mark_, RecordType::sync_mark, 0);
    encode(mark_, SyncMark{segment_synced_});
    seal_record(mark_, start);
    segment_marked_ = segment_synced_;
  }
  const std::string_view pieces[] = {mark_, chunk};
  Status s = file_->append(pieces);
  if (s) segment_size_ += mark_.size() + chunk.size();
  return s;
}

Status Wal::open_segment(std::uint32_t number, std::uint64_t first_sequence) {
  const std::string header = encode_file_header({FileKind::segment, number, first_sequence});
  const std::string_view piece = header;
  if (Status s = env_.new_file(join_path(options_.dir, file_name(FileKind::segment, number)), &file_); !s) return s;
  if (Status s = file_->append({&piece, 1}); !s) return s;
  // The new name must survive a crash before any record in it is acked.
  if (Status s = env_.sync_dir(options_.dir); !s) return s;
  segment_number_ = number;
  segment_size_ = header.size();
  segment_synced_ = 0;
  segment_marked_ = 0;
  stat_segment_.store(number, std::memory_order_relaxed);
  return Status::ok();
}

Status Wal::rotate(std::uint64_t first_sequence) {
  // Closing a segment always syncs it, whatever the policy: a segment that
  // has a successor is complete on disk, so damage in it is never a torn tail.
  if (Status s = file_->sync(); !s) return s;
  stat_syncs_.fetch_add(1, std::memory_order_relaxed);
  synced_lsn_ = first_sequence - 1;  // published with the batch
  if (Status s = file_->close(); !s) return s;
  const std::uint32_t closed = segment_number_;
  if (Status s = open_segment(closed + 1, first_sequence); !s) return s;
  if (options_.checkpoint_every_segments != 0) {
    std::lock_guard lock(compactor_mutex_);
    if (closed - compacted_through_ >= options_.checkpoint_every_segments) {
      compact_through_ = closed;
      compactor_wakeup_.notify_one();
    }
  }
  return Status::ok();
}

void Wal::fail(const Status& cause) {
  Status failure = Status::io_error("write-ahead log failed; records after LSN " + std::to_string(synced_lsn_) +
                                    " may not be durable, nothing further is accepted or acknowledged (restart to "
                                    "recover): " + cause.message());
  {
    std::lock_guard lock(mutex_);
    failure_ = failure;
  }
  acked_.fail();
  written_.fail();
  synced_.fail();
  space_available_.notify_all();
  if (options_.on_failure) options_.on_failure(failure);
}

// ---- compaction ----

Status Wal::compact(CompactionResult* result) {
  CompactionResult local;
  std::lock_guard lock(compaction_mutex_);
  const std::uint32_t through = stat_segment_.load(std::memory_order_relaxed) - 1;
  Status s = through == 0 ? Status::ok() : wal::compact(env_, options_.dir, through, retention(), &local);
  if (s && local.checkpoint != 0) ++checkpoints_;
  if (result != nullptr) *result = local;
  return s;
}

void Wal::compactor_loop() {
  std::unique_lock lock(compactor_mutex_);
  for (;;) {
    compactor_wakeup_.wait(lock, [this] { return compactor_stop_ || compact_through_ > compacted_through_; });
    if (compactor_stop_) return;
    const std::uint32_t through = compact_through_;
    lock.unlock();
    {
      // Damage or an I/O error here leaves every file in place: the log
      // stays correct, only longer. The writer reports disk failures itself.
      std::lock_guard guard(compaction_mutex_);
      CompactionResult result;
      last_compaction_ = wal::compact(env_, options_.dir, through, retention(), &result);
      if (last_compaction_ && result.checkpoint != 0) ++checkpoints_;
    }
    lock.lock();
    compacted_through_ = through;
  }
}

}  // namespace brisk::detail::wal

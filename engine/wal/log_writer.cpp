#include "wal/log_writer.hpp"

#include <time.h>

#include <algorithm>

#include "platform/thread_number.hpp"
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
// was writing, so more are surely coming, it waits up to kLinger for a
// stream to gather kLingerBytes first. A lone producer that waits for each ack
// never meets a linger: the writer finds nothing pending after its write.
constexpr auto kLinger = std::chrono::microseconds(50);
constexpr std::size_t kLingerBytes = 64u << 10;

std::int64_t realtime_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

// ---- Watermark ----

void Wal::Watermark::advance(std::uint64_t to) noexcept {
  // Only the writer thread advances; fail() may race with it, hence the CAS.
  // release: a waiter that sees the count may rely on everything the writer
  // did before (the write, the fdatasync).
  std::uint64_t w = word_.load(std::memory_order_relaxed);
  if ((w & ~kFailed) >= to) return;  // nothing new: no one to wake
  while ((w & ~kFailed) < to && !word_.compare_exchange_weak(w, (w & kFailed) | to, std::memory_order_release)) {
  }
  word_.notify_all();
}

void Wal::Watermark::fail() noexcept {
  word_.fetch_or(kFailed, std::memory_order_release);
  word_.notify_all();
}

bool Wal::Watermark::wait_for(std::uint64_t at_least) const noexcept {
  for (;;) {
    const std::uint64_t w = word_.load(std::memory_order_acquire);
    if ((w & ~kFailed) >= at_least) return true;
    if ((w & kFailed) != 0) return false;
    word_.wait(w, std::memory_order_acquire);
  }
}

// ---- open / close ----

Wal::Wal(WalOptions options, WalEnv& env)
    : options_(std::move(options)),
      env_(env),
      stream_limit_(std::max<std::size_t>(options_.max_pending_bytes / kLogStreams, 1)),
      // Half a stream's limit at most: its producers block at the whole.
      linger_bytes_(std::min(kLingerBytes, stream_limit_ / 2)) {}

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
  // Above every id the log holds, and a multiple of kLogStreams, so that
  // the ids append_numbered derives from it keep their stream.
  log->id_base_ = (recovered->max_task_id / kLogStreams + 1) * kLogStreams;
  log->compacted_through_ = next_segment - 1;
  log->epoch_ = next_segment % (1u << WalTicket::kEpochBits);
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
    // Set before the writer can see closing_: see refusing().
    refusing_.store(true, std::memory_order_relaxed);
  }
  writer_wakeup_.notify_one();
  release_waiting_producers();
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

bool Wal::refusing() const noexcept {
  // relaxed: read under a stream's lock, and set (by close() or fail())
  // before mutex_ is released to the writer, whose last take of the streams
  // locks each one after that. An append that locks the stream after the
  // take therefore sees it set (the locks order it), and an append that
  // locked it before is in the take: none is left behind untaken.
  return refusing_.load(std::memory_order_relaxed);
}

void Wal::wake_writer(bool lingering_batch_full) {
  {
    std::lock_guard lock(mutex_);
    work_ = true;
    lingering_full_ = lingering_full_ || lingering_batch_full;
  }
  writer_wakeup_.notify_one();
}

template <class EncodeBody>
WalTicket Wal::append_framed(std::uint32_t stream, Lane lane, RecordType type, const EncodeBody& encode_body) {
  Stream& s = streams_[stream];
  std::unique_lock lock(s.lock);
  s.space_available.wait(lock, [&] { return s.pending_bytes() < stream_limit_ || refusing(); });
  if (refusing()) return {};
  const std::size_t before = s.pending_bytes();
  std::string& out = s.lanes[lane];
  const std::size_t start = begin_record(out, type, 0);
  encode_body(out, s.appended + 1);
  if (out.size() - start - kRecordHeaderSize > kMaxPayloadSize) {
    out.resize(start);
    return {};
  }
  end_record(out, start);
  const WalTicket ticket = WalTicket::of(epoch_, stream, ++s.appended);
  const bool lingering_batch_full = before < linger_bytes_ && s.pending_bytes() >= linger_bytes_;
  lock.unlock();
  // The writer sleeps only when no stream has records (wake it on a
  // stream's first) or while it lingers for linger_bytes_.
  if (before == 0 || lingering_batch_full) wake_writer(lingering_batch_full);
  return ticket;
}

template <class EncodeBody>
WalTicket Wal::append_to_streams(unsigned streams, RecordType type, const EncodeBody& encode) {
  // No wait for space here: the writer takes all stream locks at once, so
  // waiting on one stream while holding another could stall it for good.
  // What these records add is bounded by the tasks already admitted.
  std::array<std::unique_lock<SpinLock>, kLogStreams> locks;
  for (std::uint32_t s = 0; s < kLogStreams; ++s) {
    if ((streams >> s & 1) != 0) locks[s] = std::unique_lock(streams_[s].lock);
  }
  if (refusing()) return {};
  std::array<std::size_t, kLogStreams> before{};
  std::array<std::size_t, kLogStreams> starts{};
  for (std::uint32_t s = 0; s < kLogStreams; ++s) {
    if ((streams >> s & 1) == 0) continue;
    before[s] = streams_[s].pending_bytes();
    std::string& out = streams_[s].lanes[kMainLane];
    starts[s] = begin_record(out, type, 0);
    encode(out, s);
    if (out.size() - starts[s] - kRecordHeaderSize > kMaxPayloadSize) {
      for (std::uint32_t undo = 0; undo <= s; ++undo) {
        if ((streams >> undo & 1) != 0) streams_[undo].lanes[kMainLane].resize(starts[undo]);
      }
      return {};
    }
    end_record(out, starts[s]);
  }
  WalTicket last;
  bool first_in_a_stream = false;
  bool lingering_batch_full = false;
  for (std::uint32_t s = 0; s < kLogStreams; ++s) {
    if ((streams >> s & 1) == 0) continue;
    last = WalTicket::of(epoch_, s, ++streams_[s].appended);
    first_in_a_stream = first_in_a_stream || before[s] == 0;
    lingering_batch_full = lingering_batch_full ||
                           (before[s] < linger_bytes_ && streams_[s].pending_bytes() >= linger_bytes_);
    locks[s].unlock();
  }
  if (first_in_a_stream || lingering_batch_full) wake_writer(lingering_batch_full);
  return last;
}

template <class Record>
WalTicket Wal::append_record(TaskId id, const Record& record) {
  return append_framed(stream_of(id), kMainLane, type_of(record),
                       [&](std::string& out, std::uint64_t) { encode(out, record); });
}

WalTicket Wal::append(const TaskImageRef& task) { return append_record(task.id, task); }

WalTicket Wal::append_numbered(TaskImageRef task, std::uint32_t stream, TaskId* id) {
  stream %= kLogStreams;
  return append_framed(stream, kMainLane, type_of(task), [&](std::string& out, std::uint64_t nth) {
    task.id = id_base_ + (nth - 1) * kLogStreams + stream;
    *id = task.id;
    encode(out, task);
  });
}

WalTicket Wal::append(const TaskCompletedRef& record) {
  if (record.ids.empty()) return {};  // lists no task: not a valid record
  return append_framed(this_thread_number() % kLogStreams, kCompletionLane, RecordType::task_completed,
                       [&](std::string& out, std::uint64_t) { encode(out, record); });
}

WalTicket Wal::append(const TaskRetryScheduled& record) { return append_record(record.id, record); }
WalTicket Wal::append(const TaskDeadLettered& record) { return append_record(record.id, record); }
WalTicket Wal::append(const TaskCancelled& record) { return append_record(record.id, record); }
WalTicket Wal::append(const DlqReplayed& record) { return append_record(record.id, record); }
WalTicket Wal::append(const DlqDropped& record) { return append_record(record.id, record); }

WalTicket Wal::append(const DlqPurged& record) {
  if (record.stream != kAllLogStreams) {
    return append_framed(record.stream % kLogStreams, kMainLane, RecordType::dlq_purged,
                         [&](std::string& out, std::uint64_t) { encode(out, record); });
  }
  return append_to_streams((1u << kLogStreams) - 1, RecordType::dlq_purged,
                           [](std::string& out, std::uint32_t s) { encode(out, DlqPurged{s}); });
}

bool Wal::issued(WalTicket ticket) const noexcept {
  if (!ticket.valid() || ticket.epoch() != epoch_ || ticket.nth() == 0) return false;
  // Acked ones were issued; only a ticket past the acked count needs the
  // stream's count, read under its lock (appended is the producers').
  if (progress_[ticket.stream()].acked.value() >= ticket.nth()) return true;
  const Stream& s = streams_[ticket.stream()];
  std::lock_guard lock(s.lock);
  return ticket.nth() <= s.appended;
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
  std::lock_guard lock(mutex_);
  if (!failure_.is_ok()) return failure_;
  if (closing_) return Status::closed("the write-ahead log is closed");
  return Status::invalid("record payload exceeds " + std::to_string(kMaxPayloadSize) +
                         " bytes (or a completion lists no task)");
}

Status Wal::sync() {
  // Everything appended before this call: each stream's count now.
  std::array<std::uint64_t, kLogStreams> targets;
  for (std::uint32_t s = 0; s < kLogStreams; ++s) {
    std::lock_guard lock(streams_[s].lock);
    targets[s] = streams_[s].appended;
  }
  {
    std::lock_guard lock(mutex_);
    if (!failure_.is_ok()) return failure_;
    ++sync_requests_;  // the writer's next take comes after this: it covers the targets
  }
  writer_wakeup_.notify_one();
  for (std::uint32_t s = 0; s < kLogStreams; ++s) {
    if (!progress_[s].synced.wait_for(targets[s])) return status();
  }
  return Status::ok();
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
    std::uint64_t sync_target;
    bool closing;
    {
      std::unique_lock lock(mutex_);
      const bool streaming = work_;  // records came while we wrote
      const auto has_work = [this] { return work_ || closing_ || sync_requests_ > syncs_done_; };
      if (interval && written_lsn_ > synced_lsn_) {
        writer_wakeup_.wait_until(lock, last_sync_ + options_.fsync_interval, has_work);
      } else {
        writer_wakeup_.wait(lock, has_work);
      }
      if (may_linger && streaming) {
        writer_wakeup_.wait_for(lock, kLinger, [this] {
          return lingering_full_ || closing_ || sync_requests_ > syncs_done_;
        });
      }
      work_ = false;
      lingering_full_ = false;
      sync_target = sync_requests_;
      closing = closing_;
    }
    take_streams();
    Status s = write_batch();
    const auto now = std::chrono::steady_clock::now();
    const bool sync_due = options_.fsync == FsyncPolicy::always || closing || sync_target > syncs_done_ ||
                          (interval && now >= last_sync_ + options_.fsync_interval);
    if (s && sync_due && written_lsn_ > synced_lsn_) {
      s = timed(observations_.fsync_ns, [&] { return file_->sync(); });
      if (s) {
        synced_lsn_ = written_lsn_;
        synced_ = written_;
        segment_synced_ = segment_size_;
        last_sync_ = now;
        stat_syncs_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (!s) {
      fail(s);
      return;
    }
    if (sync_due) syncs_done_ = sync_target;  // all written is synced now
    publish_progress();
    if (closing) return;  // appends stopped before this take: all of it is out
  }
}

void Wal::take_streams() {
  // All locks at once: a consistent cut. A record appended after another
  // (in any stream) is never taken in an earlier batch, and the parts of a
  // multi-stream append (append_to_streams) are taken together.
  std::array<std::unique_lock<SpinLock>, kLogStreams> locks;
  for (std::uint32_t s = 0; s < kLogStreams; ++s) locks[s] = std::unique_lock(streams_[s].lock);
  std::array<bool, kLogStreams> had_waiters{};
  for (std::uint32_t s = 0; s < kLogStreams; ++s) {
    Stream& stream = streams_[s];
    had_waiters[s] = stream.pending_bytes() >= stream_limit_;  // producers wait only at the limit
    for (std::uint32_t lane = 0; lane < kLanes; ++lane) {
      // Both keep their capacity: no allocation once grown.
      batch_[lane * kLogStreams + s].swap(stream.lanes[lane]);
    }
    taken_[s] = stream.appended;
  }
  for (auto& lock : locks) lock.unlock();
  for (std::uint32_t s = 0; s < kLogStreams; ++s) {
    if (had_waiters[s]) streams_[s].space_available.notify_all();
  }
}

Status Wal::write_batch() {
  std::uint64_t bytes = 0;
  for (const std::string& b : batch_) bytes += b.size();
  if (bytes == 0) return Status::ok();
  stat_batches_.fetch_add(1, std::memory_order_relaxed);
  stat_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  if (bytes > stat_largest_batch_.load(std::memory_order_relaxed)) {
    stat_largest_batch_.store(bytes, std::memory_order_relaxed);
  }
  const std::uint64_t first_lsn = next_lsn_;
  // batch_ is in layout order: every main lane, then every completion lane.
  // A completion thus follows its tasks' other records of the same batch,
  // and the cut put none of those in a later batch (see append(TaskCompletedRef)).
  for (std::string& batch : batch_) {
    std::size_t piece = 0;
    for (std::size_t at = 0; at < batch.size();) {
      char* record = batch.data() + at;
      const std::size_t size = kRecordHeaderSize + load_u32(record + 4);
      // Numbered here, in the order the streams are laid out: LSNs grow
      // through the file, whatever stream each record came from.
      set_record_sequence(record, next_lsn_);
      checksum_record(record);
      // A record never spans segments: close this one first if it would not
      // fit, unless the segment holds nothing yet (a huge record gets its own).
      const std::uint64_t used = segment_size_ + chunk_bytes_ + (at - piece);
      if (used + size > options_.segment_bytes && used > kFileHeaderSize) {
        add_to_chunk(std::string_view(batch).substr(piece, at - piece));
        if (Status s = write_chunk(); !s) return s;
        if (Status s = rotate(next_lsn_); !s) return s;
        piece = at;
      }
      ++next_lsn_;
      at += size;
    }
    add_to_chunk(std::string_view(batch).substr(piece));
  }
  if (Status s = write_chunk(); !s) return s;
  stat_records_.fetch_add(next_lsn_ - first_lsn, std::memory_order_relaxed);
  observations_.batch_bytes.record(bytes);
  observations_.batch_records.record(next_lsn_ - first_lsn);
  written_lsn_ = next_lsn_ - 1;
  written_ = taken_;
  for (std::string& b : batch_) b.clear();
  return Status::ok();
}

void Wal::add_to_chunk(std::string_view piece) {
  if (piece.empty()) return;
  chunk_[chunk_pieces_++] = piece;
  chunk_bytes_ += piece.size();
}

Status Wal::write_chunk() {
  if (chunk_bytes_ == 0) return Status::ok();
  // Lead with a sync mark whenever more of the file became durable since the
  // last one: it lets recovery tell a torn tail from damage to synced data.
  mark_.clear();
  if (segment_synced_ != segment_marked_) {
    const std::size_t start = begin_record(mark_, RecordType::sync_mark, 0);
    encode(mark_, SyncMark{segment_synced_});
    seal_record(mark_, start);
    segment_marked_ = segment_synced_;
  }
  chunk_[0] = mark_;
  Status s = file_->append(std::span(chunk_.data(), chunk_pieces_));
  if (s) segment_size_ += mark_.size() + chunk_bytes_;
  chunk_pieces_ = 1;
  chunk_bytes_ = 0;
  return s;
}

void Wal::publish_progress() {
  // Streams in order: append_to_streams() hands out the last stream's
  // ticket for records in several, so it must be the last to advance.
  const bool ack_synced = options_.fsync == FsyncPolicy::always;
  for (std::uint32_t s = 0; s < kLogStreams; ++s) {
    progress_[s].synced.advance(synced_[s]);
    progress_[s].acked.advance(ack_synced ? synced_[s] : written_[s]);
  }
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
  if (Status s = timed(observations_.fsync_ns, [&] { return file_->sync(); }); !s) return s;
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
    refusing_.store(true, std::memory_order_relaxed);  // see refusing()
  }
  for (Progress& p : progress_) {
    p.acked.fail();
    p.synced.fail();
  }
  release_waiting_producers();
  if (options_.on_failure) options_.on_failure(failure);
}

void Wal::release_waiting_producers() {
  for (Stream& s : streams_) {
    // Under the lock: a producer between its check and its wait would miss
    // a bare notify.
    { std::lock_guard lock(s.lock); }
    s.space_available.notify_all();
  }
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

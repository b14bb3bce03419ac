#include "wal/group_commit.hpp"

#include <algorithm>
#include <cstdint>

namespace brisk::detail::wal {

namespace {
// Under `interval` and `never` no fdatasync paces the writer: left alone it
// would chase a stream of appends with a write() per handful of records (two
// producers: ~14 records, 1.5 KB, a batch). When records arrived while it
// was writing, so more are surely coming, it waits up to kLinger for a
// stream to gather the linger size first (append_streams.cpp). A lone
// producer that waits for each ack never meets a linger: the writer finds
// nothing pending after its write.
constexpr auto kLinger = std::chrono::microseconds(50);
// A slice on the log writer's track: its begin (at t0, with its args) and
// its end (now). The writer thread is the ring's one producer.
void trace_slice(trace::TraceBuffer& ring, trace::TraceKind kind, std::uint64_t t0, std::uint64_t id,
                 std::uint64_t arg) noexcept {
  const auto narrow = static_cast<std::uint32_t>(std::min<std::uint64_t>(arg, UINT32_MAX));
  ring.record(trace::TraceEvent{t0, id, narrow, trace::kLogWriter, kind});
  ring.record(trace::TraceEvent{trace::trace_now_ns(), 0, 0, trace::kLogWriter, trace::TraceKind::kLogEnd});
}
}  // namespace

trace::TraceBuffer* GroupCommit::tracing() const noexcept {
  if (options_.trace == nullptr || !options_.trace->on()) [[likely]] return nullptr;
  trace::SideTracks* side = options_.trace->side();  // set before on() turned true
  return side != nullptr ? &side->log_writer : nullptr;
}

GroupCommit::GroupCommit(GroupCommitOptions options, AppendStreams& streams, WriterSignal& signal,
                         std::array<StreamProgress, kLogStreams>& progress, SegmentWriter& segments,
                         WalObservations& observations)
    : options_(std::move(options)),
      streams_(streams),
      signal_(signal),
      progress_(progress),
      segments_(segments),
      observations_(observations) {}

void GroupCommit::start() {
  segment_.store(segments_.segment(), std::memory_order_relaxed);
  last_sync_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this] { run(); });
}

void GroupCommit::join() {
  if (thread_.joinable()) thread_.join();
}

void GroupCommit::run() {
  const bool interval = options_.fsync == FsyncPolicy::interval;
  const bool may_linger = options_.fsync != FsyncPolicy::always;
  for (;;) {
    std::uint64_t sync_target;
    bool closing;
    {
      std::unique_lock lock(signal_.mutex);
      const bool streaming = signal_.work;  // records came while we wrote
      const auto sync_asked = [this] { return signal_.closing || signal_.sync_requests > syncs_done_; };
      const auto has_work = [&] { return signal_.work || sync_asked(); };
      if (interval && segments_.written_lsn() > segments_.synced_lsn()) {
        signal_.wakeup.wait_until(lock, last_sync_ + options_.fsync_interval, has_work);
      } else {
        signal_.wakeup.wait(lock, has_work);
      }
      if (may_linger && streaming) {
        signal_.wakeup.wait_for(lock, kLinger, [&] { return signal_.lingering_full || sync_asked(); });
      }
      signal_.work = false;
      signal_.lingering_full = false;
      sync_target = signal_.sync_requests;
      closing = signal_.closing;
    }
    trace::TraceBuffer* const traced = tracing();
    streams_.take(batch_, taken_);
    Status s = write_batch(traced);
    const auto now = std::chrono::steady_clock::now();
    const bool sync_due = options_.fsync == FsyncPolicy::always || closing || sync_target > syncs_done_ ||
                          (interval && now >= last_sync_ + options_.fsync_interval);
    if (s && sync_due && segments_.written_lsn() > segments_.synced_lsn()) {
      const std::uint64_t t0 = traced != nullptr ? trace::trace_now_ns() : 0;
      s = segments_.sync();
      if (traced != nullptr && s) trace_slice(*traced, trace::TraceKind::kFsync, t0, segments_.synced_lsn(), 0);
      if (s) {
        synced_ = written_;
        last_sync_ = now;
      }
    }
    syncs_.store(segments_.syncs(), std::memory_order_relaxed);
    segment_.store(segments_.segment(), std::memory_order_relaxed);
    if (!s) {
      fail(s);
      return;
    }
    if (sync_due) syncs_done_ = sync_target;  // all written is synced now
    publish_progress();
    if (closing) return;  // appends stopped before this take: all of it is out
  }
}

Status GroupCommit::write_batch(trace::TraceBuffer* traced) {
  std::uint64_t bytes = 0;
  for (const std::string& b : batch_) bytes += b.size();
  if (bytes == 0) return Status::ok();
  batches_.fetch_add(1, std::memory_order_relaxed);
  bytes_.fetch_add(bytes, std::memory_order_relaxed);
  if (bytes > largest_batch_.load(std::memory_order_relaxed)) largest_batch_.store(bytes, std::memory_order_relaxed);
  const std::uint64_t before = segments_.written_lsn();
  const std::uint64_t t0 = traced != nullptr ? trace::trace_now_ns() : 0;
  // batch_ is in layout order: every main lane, then every completion lane.
  // A completion thus follows its tasks' other records of the same batch,
  // and the cut put none of those in a later batch (see Wal::append(TaskCompletedRef)).
  Status s = segments_.write(batch_);
  if (!s) return s;
  records_.fetch_add(segments_.written_lsn() - before, std::memory_order_relaxed);
  observations_.batch_bytes.record(bytes);
  observations_.batch_records.record(segments_.written_lsn() - before);
  if (traced != nullptr) trace_slice(*traced, trace::TraceKind::kLogBatch, t0, bytes, segments_.written_lsn() - before);
  written_ = taken_;
  for (std::string& b : batch_) b.clear();  // keeps the capacity
  return Status::ok();
}

void GroupCommit::publish_progress() {
  // Streams in order: append_to_streams() hands out the last stream's
  // ticket for records in several, so it must be the last to advance.
  const bool ack_synced = options_.fsync == FsyncPolicy::always;
  for (std::uint32_t s = 0; s < kLogStreams; ++s) {
    progress_[s].synced.advance(synced_[s]);
    progress_[s].acked.advance(ack_synced ? synced_[s] : written_[s]);
  }
}

void GroupCommit::fail(const Status& cause) {
  Status failure = Status::io_error("write-ahead log failed; records after LSN " +
                                    std::to_string(segments_.synced_lsn()) +
                                    " may not be durable, nothing further is accepted or acknowledged (restart to "
                                    "recover): " + cause.message());
  {
    std::lock_guard lock(signal_.mutex);
    signal_.failure = failure;
    streams_.refuse();  // under the mutex: see AppendStreams::refuse()
  }
  for (StreamProgress& p : progress_) {
    p.acked.fail();
    p.synced.fail();
  }
  streams_.release_waiting_producers();
  if (options_.on_failure) options_.on_failure(failure);
}

}  // namespace brisk::detail::wal

// SegmentWriter on its own, on one thread: records framed as producers frame
// them go in, the log reader reads them back. Numbering across buffers,
// rotation (every closed segment synced, a record never split, a huge one
// alone), sync marks (damage before the last mark is corruption, after it a
// torn tail) and a crash that drops what was never synced.
#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

#include "metrics/latency_histogram.hpp"
#include "wal/fault_injection_env.hpp"
#include "wal/log_format.hpp"
#include "wal/log_reader.hpp"
#include "wal/segment_writer.hpp"
#include "wal_test_support.hpp"

namespace wal = brisk::detail::wal;

namespace {

// Frames a task record the way AppendStreams does: sequence and CRC left zero.
void frame(std::string& out, const wal::TaskImage& task) {
  const std::size_t start = wal::begin_record(out, wal::type_of(wal::as_ref(task)), 0);
  wal::encode(out, wal::as_ref(task));
  wal::end_record(out, start);
}

struct Replayed {
  wal::ReadReport report;
  std::vector<std::uint64_t> sequences;
  std::vector<brisk::TaskId> ids;
};

Replayed read_back(wal::WalEnv& env, const std::string& dir, wal::RecoveryMode mode) {
  Replayed r;
  r.report = wal::read_log(env, dir, {mode, 0}, [&r](const wal::RecordView& v) {
    if (wal::is_control(v.type)) return;
    r.sequences.push_back(v.sequence);
    r.ids.push_back(std::get<wal::TaskImage>(v.event).id);
  });
  return r;
}

std::vector<std::uint64_t> one_to(std::uint64_t n) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t i = 1; i <= n; ++i) v.push_back(i);
  return v;
}

std::string segment_path(const brisk::test::TempDir& dir, std::uint32_t number) {
  return dir.file(wal::file_name(wal::FileKind::segment, number));
}

class SegmentWriterTest : public ::testing::Test {
 protected:
  static constexpr std::size_t kPieces = 4;
  brisk::test::TempDir dir_;
  brisk::metrics::LatencyHistogram fsync_ns_;
};

TEST_F(SegmentWriterTest, NumbersRecordsAcrossBuffersInTheOrderGiven) {
  wal::SegmentWriter w(wal::WalEnv::posix(), dir_.path(), 1 << 20, kPieces, fsync_ns_);
  ASSERT_TRUE(w.start(1, 1));
  // Buffers as the writer thread lays them out; ids tell them apart.
  std::vector<std::string> buffers(kPieces);
  for (brisk::TaskId id = 1; id <= 12; ++id) frame(buffers[(id - 1) / 3], brisk::test::sample_task(id));
  ASSERT_TRUE(w.write(buffers));
  EXPECT_EQ(w.written_lsn(), 12u);
  EXPECT_EQ(w.synced_lsn(), 0u);
  ASSERT_TRUE(w.sync());
  EXPECT_EQ(w.synced_lsn(), 12u);
  EXPECT_EQ(w.syncs(), 1u);
  brisk::metrics::HistogramSnapshot fsyncs;
  fsyncs.merge(fsync_ns_);
  EXPECT_EQ(fsyncs.count(), 1u);  // each fdatasync timed
  ASSERT_TRUE(w.close());

  const Replayed r = read_back(wal::WalEnv::posix(), dir_.path(), wal::RecoveryMode::absolute_consistency);
  ASSERT_TRUE(r.report.status) << r.report.status.to_string();
  EXPECT_EQ(r.sequences, one_to(12));
  const std::vector<std::uint64_t> ids(r.ids.begin(), r.ids.end());
  EXPECT_EQ(ids, one_to(12));  // the buffers' order
  EXPECT_TRUE(r.report.damage.empty());
}

TEST_F(SegmentWriterTest, RotatesBeforeARecordWouldPassTheSegmentSizeAndSyncsWhatItCloses) {
  wal::FaultInjectionEnv env(wal::WalEnv::posix());
  constexpr std::uint64_t kSegmentBytes = 1024;  // a sample task is ~110 bytes framed
  wal::SegmentWriter w(env, dir_.path(), kSegmentBytes, kPieces, fsync_ns_);
  ASSERT_TRUE(w.start(7, 1));
  std::vector<std::string> buffers(2);
  brisk::TaskId id = 0;
  for (int batch = 0; batch < 5; ++batch) {
    for (int i = 0; i < 10; ++i) frame(buffers[i % 2], brisk::test::sample_task(++id));
    ASSERT_TRUE(w.write(buffers));
    for (std::string& b : buffers) b.clear();
  }
  ASSERT_GT(w.segment(), 8u) << "50 records of ~110 bytes fill several 1 KB segments";
  // Every rotation synced the segment it closed, nothing else did.
  EXPECT_EQ(w.syncs(), w.segment() - 7);
  const std::uint64_t synced = w.synced_lsn();
  ASSERT_GT(synced, 0u);
  ASSERT_LT(synced, 50u);

  // A crash now loses the open segment's unsynced records, nothing closed.
  env.freeze();
  ASSERT_TRUE(env.apply_crash(wal::CrashMode::drop_unsynced, 1));
  const Replayed r = read_back(env, dir_.path(), wal::RecoveryMode::tolerate_corrupted_tail_records);
  ASSERT_TRUE(r.report.status) << r.report.status.to_string();
  EXPECT_EQ(r.sequences, one_to(synced));
  for (const wal::FileSummary& f : r.report.files) {
    EXPECT_LE(f.size, kSegmentBytes) << f.name;
    EXPECT_FALSE(f.damaged) << f.name;
  }
  EXPECT_EQ(r.report.files.front().number, 7u);
}

TEST_F(SegmentWriterTest, ARecordLargerThanASegmentGetsOneToItself) {
  wal::SegmentWriter w(wal::WalEnv::posix(), dir_.path(), 512, kPieces, fsync_ns_);
  ASSERT_TRUE(w.start(1, 1));
  std::vector<std::string> buffers(1);
  frame(buffers[0], brisk::test::sample_task(1));
  wal::TaskImage huge = brisk::test::sample_task(2);
  huge.payload.assign(2000, 'h');
  frame(buffers[0], huge);
  frame(buffers[0], brisk::test::sample_task(3));
  ASSERT_TRUE(w.write(buffers));
  ASSERT_TRUE(w.sync());
  ASSERT_TRUE(w.close());
  EXPECT_EQ(w.segment(), 3u);  // [1], [huge], [3]
  const Replayed r = read_back(wal::WalEnv::posix(), dir_.path(), wal::RecoveryMode::absolute_consistency);
  ASSERT_TRUE(r.report.status) << r.report.status.to_string();
  ASSERT_EQ(r.report.files.size(), 3u);
  for (const wal::FileSummary& f : r.report.files) EXPECT_EQ(f.records, 1u) << f.name;
  EXPECT_EQ(r.sequences, one_to(3));
}

// Writes records 1..10, syncs, writes 11..20 (led by a sync mark saying the
// first part is durable) and returns the segment's bytes and where the
// second part starts.
std::pair<std::string, std::size_t> synced_then_unsynced(wal::SegmentWriter& w, const brisk::test::TempDir& dir) {
  std::vector<std::string> buffers(1);
  for (brisk::TaskId id = 1; id <= 10; ++id) frame(buffers[0], brisk::test::sample_task(id));
  EXPECT_TRUE(w.write(buffers));
  EXPECT_TRUE(w.sync());
  const std::size_t synced_bytes = brisk::test::read_file(segment_path(dir, 1)).size();
  buffers[0].clear();
  for (brisk::TaskId id = 11; id <= 20; ++id) frame(buffers[0], brisk::test::sample_task(id));
  EXPECT_TRUE(w.write(buffers));
  EXPECT_TRUE(w.close());
  return {brisk::test::read_file(segment_path(dir, 1)), synced_bytes};
}

TEST_F(SegmentWriterTest, ATornTailAfterTheLastSyncMarkIsCut) {
  wal::SegmentWriter w(wal::WalEnv::posix(), dir_.path(), 1 << 20, kPieces, fsync_ns_);
  ASSERT_TRUE(w.start(1, 1));
  const auto [bytes, synced_bytes] = synced_then_unsynced(w, dir_);
  // The crash kept the sync mark and part of the unsynced records: cut in
  // the middle of the fifth one after the mark.
  const std::size_t record = (bytes.size() - synced_bytes) / 10;  // about: the mark is smaller
  brisk::test::write_file(segment_path(dir_, 1), bytes.substr(0, synced_bytes + 4 * record + record / 2));

  const Replayed r = read_back(wal::WalEnv::posix(), dir_.path(), wal::RecoveryMode::tolerate_corrupted_tail_records);
  ASSERT_TRUE(r.report.status) << r.report.status.to_string();
  ASSERT_EQ(r.report.damage.size(), 1u);
  EXPECT_EQ(r.report.damage[0].kind, wal::Damage::Kind::torn_tail);
  ASSERT_GE(r.sequences.size(), 13u);  // the synced ten and some after the mark
  ASSERT_LT(r.sequences.size(), 20u);
  EXPECT_EQ(r.sequences, one_to(r.sequences.size()));
  // A torn tail is still damage to the mode that accepts none.
  EXPECT_FALSE(read_back(wal::WalEnv::posix(), dir_.path(), wal::RecoveryMode::absolute_consistency).report.status);
}

TEST_F(SegmentWriterTest, DamageBeforeTheLastSyncMarkIsCorruptionNotATail) {
  wal::SegmentWriter w(wal::WalEnv::posix(), dir_.path(), 1 << 20, kPieces, fsync_ns_);
  ASSERT_TRUE(w.start(1, 1));
  auto [bytes, synced_bytes] = synced_then_unsynced(w, dir_);
  bytes[synced_bytes - 5] ^= 0x40;  // inside record 10, which was synced
  brisk::test::write_file(segment_path(dir_, 1), bytes);
  const Replayed r = read_back(wal::WalEnv::posix(), dir_.path(), wal::RecoveryMode::tolerate_corrupted_tail_records);
  EXPECT_FALSE(r.report.status) << "synced data damaged: the mark says it is not a torn tail";
  ASSERT_FALSE(r.report.damage.empty());
  EXPECT_EQ(r.report.damage.back().kind, wal::Damage::Kind::corruption);
}

TEST_F(SegmentWriterTest, AFailedWriteIsReported) {
  wal::FaultInjectionEnv env(wal::WalEnv::posix());
  wal::SegmentWriter w(env, dir_.path(), 1 << 20, kPieces, fsync_ns_);
  ASSERT_TRUE(w.start(1, 1));
  env.set_plan({.fail_at = 1, .persistent = true, .error = ENOSPC, .ops = wal::kFaultWrite});
  std::vector<std::string> buffers(1);
  frame(buffers[0], brisk::test::sample_task(1));
  EXPECT_FALSE(w.write(buffers));
  EXPECT_EQ(env.injected_faults(), 1u);
}

}  // namespace

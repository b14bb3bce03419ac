// Reading damaged logs. Each test is named after the failure it provokes
// and checks the outcome of every recovery mode the failure distinguishes.
// (The format never fragments a record, so LevelDB's orphan fragment has no
// twin here; its nearest kin, an intact record that does not belong, is
// StaleRecordAfterTheEnd and SequenceGap.)
#include <gtest/gtest.h>

#include "wal/coding.hpp"
#include "wal/crc32c.hpp"
#include "wal/log_reader.hpp"
#include "wal_test_support.hpp"

namespace wal = brisk::detail::wal;
using wal::RecoveryMode;

namespace {

constexpr RecoveryMode kTolerate = RecoveryMode::tolerate_corrupted_tail_records;
constexpr RecoveryMode kAbsolute = RecoveryMode::absolute_consistency;
constexpr RecoveryMode kPointInTime = RecoveryMode::point_in_time;
constexpr RecoveryMode kSkip = RecoveryMode::skip_any_corrupted_record;

// Re-seals a record after editing it, so that only the edit is wrong.
void reseal(std::string& file, std::size_t at) { wal::checksum_record(file.data() + at); }

struct Read {
  wal::ReadReport report;
  std::vector<std::uint64_t> sequences;  // of the data records replayed
};

class WalReader : public ::testing::Test {
 protected:
  // A segment with records first..last (completions, 26 bytes each) and,
  // when mark_after is set, a sync mark after that record claiming that
  // everything before the mark was durable.
  wal::FileBuilder segment(std::uint32_t number, std::uint64_t first, std::uint64_t last, std::uint64_t mark_after = 0) {
    wal::FileBuilder b(wal::FileKind::segment, number, first);
    for (std::uint64_t s = first; s <= last; ++s) {
      offsets_[s] = b.add(s, wal::TaskCompleted{{s}});
      if (s == mark_after) b.add(0, wal::SyncMark{b.bytes().size()});
    }
    return b;
  }
  void save(std::uint32_t number, const std::string& bytes) {
    brisk::test::write_file(dir_.file(wal::file_name(wal::FileKind::segment, number)), bytes);
  }
  Read read(RecoveryMode mode) {
    Read r;
    r.report = wal::read_log(wal::WalEnv::posix(), dir_.path(), {mode, 0}, [&r](const wal::RecordView& v) {
      if (!wal::is_control(v.type)) r.sequences.push_back(v.sequence);
    });
    return r;
  }
  static std::vector<std::uint64_t> seqs(std::initializer_list<std::uint64_t> s) { return s; }

  // Sets one byte of record 2 to `value`, re-seals it so that only the edit
  // is wrong, and expects recovery to refuse the log for `why`.
  void refused_after_edit(std::size_t byte_in_record, char value, const std::string& why) {
    std::string f = segment(1, 1, 3, 3).bytes();
    f[offsets_[2] + byte_in_record] = value;
    reseal(f, offsets_[2]);
    save(1, f);
    const Read r = read(RecoveryMode::tolerate_corrupted_tail_records);
    EXPECT_FALSE(r.report.status);
    EXPECT_NE(r.report.status.message().find(why), std::string::npos) << r.report.status.message();
  }

  brisk::test::TempDir dir_;
  std::map<std::uint64_t, std::size_t> offsets_;  // sequence -> record offset
};

}  // namespace

TEST_F(WalReader, CleanLogReadsEveryRecordAcrossSegments) {
  save(1, segment(1, 1, 3).bytes());
  save(2, segment(2, 4, 6, 5).bytes());
  for (const RecoveryMode mode : {kTolerate, kAbsolute, kPointInTime, kSkip}) {
    const Read r = read(mode);
    EXPECT_TRUE(r.report.status) << r.report.status.to_string();
    EXPECT_EQ(r.sequences, seqs({1, 2, 3, 4, 5, 6}));
    EXPECT_TRUE(r.report.damage.empty());
    EXPECT_EQ(r.report.last_sequence, 6u);
  }
}

TEST_F(WalReader, TruncatedHeader) {
  std::string f = segment(1, 1, 3).bytes();
  f += segment(9, 4, 4).bytes().substr(wal::kFileHeaderSize, 10);  // 10 bytes of a 17-byte header
  save(1, f);
  const Read r = read(kTolerate);
  ASSERT_TRUE(r.report.status);
  EXPECT_EQ(r.sequences, seqs({1, 2, 3}));
  ASSERT_EQ(r.report.damage.size(), 1u);
  EXPECT_EQ(r.report.damage[0].kind, wal::Damage::Kind::torn_tail);
  EXPECT_EQ(r.report.damage[0].reason, "truncated header");
  EXPECT_EQ(r.report.damage[0].bytes, 10u);
  const Read strict = read(kAbsolute);
  EXPECT_FALSE(strict.report.status);
  EXPECT_NE(strict.report.status.message().find("wal-000001.log offset " + std::to_string(f.size() - 10)),
            std::string::npos)
      << strict.report.status.message();
}

TEST_F(WalReader, TruncatedPayload) {
  const std::string f = segment(1, 1, 3).bytes();
  std::string last_payload;
  wal::encode(last_payload, wal::TaskCompleted{{3}});
  save(1, f.substr(0, f.size() - 2));
  for (const RecoveryMode mode : {kTolerate, kPointInTime, kSkip}) {
    const Read r = read(mode);
    ASSERT_TRUE(r.report.status);
    EXPECT_EQ(r.sequences, seqs({1, 2}));
    ASSERT_EQ(r.report.damage.size(), 1u);
    EXPECT_EQ(r.report.damage[0].reason, "truncated payload");
    EXPECT_EQ(r.report.damage[0].bytes, wal::kRecordHeaderSize + last_payload.size() - 2);
  }
  EXPECT_FALSE(read(kAbsolute).report.status);
}

TEST_F(WalReader, BadLength) {
  // Damage in synced data (a sync mark after it says so): corruption.
  std::string f = segment(1, 1, 5, 4).bytes();
  wal::store_u32(f.data() + offsets_[2] + 4, wal::kMaxPayloadSize + 1);
  save(1, f);
  const Read tolerate = read(kTolerate);
  EXPECT_FALSE(tolerate.report.status);
  EXPECT_NE(tolerate.report.status.message().find("offset " + std::to_string(offsets_[2]) + ": bad length"),
            std::string::npos)
      << tolerate.report.status.message();
  const Read pit = read(kPointInTime);
  ASSERT_TRUE(pit.report.status);
  EXPECT_EQ(pit.sequences, seqs({1}));
  ASSERT_EQ(pit.report.damage.size(), 1u);
  EXPECT_EQ(pit.report.damage[0].kind, wal::Damage::Kind::corruption);
  EXPECT_EQ(pit.report.damage[0].bytes, f.size() - offsets_[2]);
  const Read skip = read(kSkip);
  ASSERT_TRUE(skip.report.status);
  EXPECT_EQ(skip.sequences, seqs({1, 3, 4, 5}));
  ASSERT_EQ(skip.report.damage.size(), 1u);
  EXPECT_EQ(skip.report.damage[0].bytes, offsets_[3] - offsets_[2]);
  EXPECT_EQ(skip.report.damage[0].missing_sequences, 1u);
}

TEST_F(WalReader, CrcMismatch) {
  std::string f = segment(1, 1, 5, 4).bytes();
  f[offsets_[3] + wal::kRecordHeaderSize + 2] ^= 0x10;  // one bit of record 3's payload
  save(1, f);
  const Read tolerate = read(kTolerate);
  EXPECT_FALSE(tolerate.report.status);
  EXPECT_NE(tolerate.report.status.message().find("crc mismatch"), std::string::npos);
  EXPECT_EQ(read(kAbsolute).sequences, seqs({1, 2}));  // replayed up to the damage, then refused
  EXPECT_EQ(read(kPointInTime).sequences, seqs({1, 2}));
  EXPECT_EQ(read(kSkip).sequences, seqs({1, 2, 4, 5}));
}

TEST_F(WalReader, CrcMismatchInTheUnsyncedTailIsATornTail) {
  std::string f = segment(1, 1, 5, 2).bytes();  // only 1..2 known durable
  f[offsets_[4] + wal::kRecordHeaderSize + 2] ^= 0x10;
  save(1, f);
  const Read r = read(kTolerate);
  ASSERT_TRUE(r.report.status);
  EXPECT_EQ(r.sequences, seqs({1, 2, 3}));
  ASSERT_EQ(r.report.damage.size(), 1u);
  EXPECT_EQ(r.report.damage[0].kind, wal::Damage::Kind::torn_tail);
  EXPECT_EQ(r.report.damage[0].intact_records, 1u);  // record 5, written after the hole: dropped too
  EXPECT_EQ(read(kSkip).sequences, seqs({1, 2, 3}));
}

TEST_F(WalReader, DamageInAnOlderSegmentIsNeverATail) {
  std::string f = segment(1, 1, 3).bytes();
  f[offsets_[3] + wal::kRecordHeaderSize] ^= 1;
  save(1, f);
  save(2, segment(2, 4, 5).bytes());
  EXPECT_FALSE(read(kTolerate).report.status);
  const Read pit = read(kPointInTime);
  EXPECT_EQ(pit.sequences, seqs({1, 2}));
  EXPECT_EQ(pit.report.dropped_files, std::vector<std::string>{"wal-000002.log"});
  EXPECT_EQ(read(kSkip).sequences, seqs({1, 2, 4, 5}));
}

TEST_F(WalReader, UnknownType) { refused_after_edit(8, 99, "unknown record type"); }

TEST_F(WalReader, BadPayloadVersion) { refused_after_edit(wal::kRecordHeaderSize, 7, "unsupported payload version 7"); }

TEST_F(WalReader, SequenceGap) {
  // Record 3 went missing: 4 follows 2. Intact records, wrong order.
  wal::FileBuilder b(wal::FileKind::segment, 1, 1);
  b.add(1, wal::TaskCompleted{{1}});
  b.add(2, wal::TaskCompleted{{2}});
  const std::size_t at = b.add(4, wal::TaskCompleted{{4}});
  b.add(0, wal::SyncMark{b.bytes().size()});
  b.add(5, wal::TaskCompleted{{5}});
  save(1, b.bytes());
  const Read r = read(kTolerate);
  EXPECT_FALSE(r.report.status);
  EXPECT_NE(r.report.status.message().find("offset " + std::to_string(at) + ": sequence 4 where 3 was expected"),
            std::string::npos)
      << r.report.status.message();
  const Read skip = read(kSkip);
  EXPECT_EQ(skip.sequences, seqs({1, 2, 5}));
}

TEST_F(WalReader, StaleRecordAfterTheEnd) {
  // An old record (sequence 2 again) after the last one, as a reused file
  // could hold: it does not belong, and nothing durable follows it.
  wal::FileBuilder b = segment(1, 1, 3, 3);
  b.add(2, wal::TaskCompleted{{2}});
  save(1, b.bytes());
  const Read r = read(kTolerate);
  ASSERT_TRUE(r.report.status);
  EXPECT_EQ(r.sequences, seqs({1, 2, 3}));
  ASSERT_EQ(r.report.damage.size(), 1u);
  EXPECT_EQ(r.report.damage[0].kind, wal::Damage::Kind::torn_tail);
}

TEST_F(WalReader, ControlRecordWithASequence) {
  wal::FileBuilder b = segment(1, 1, 2, 2);
  b.add(7, wal::SyncMark{0});
  save(1, b.bytes());
  const Read r = read(kTolerate);
  ASSERT_TRUE(r.report.status);
  ASSERT_EQ(r.report.damage.size(), 1u);
  EXPECT_EQ(r.report.damage[0].reason, "control record with sequence 7");
}

TEST_F(WalReader, MissingSegment) {
  save(1, segment(1, 1, 2).bytes());
  save(3, segment(3, 5, 6).bytes());
  const Read r = read(kTolerate);
  EXPECT_FALSE(r.report.status);
  EXPECT_NE(r.report.status.message().find("wal-000003.log offset 0: file starts at sequence 5 where 3 was expected"),
            std::string::npos)
      << r.report.status.message();
  const Read skip = read(kSkip);
  ASSERT_TRUE(skip.report.status);
  EXPECT_EQ(skip.sequences, seqs({1, 2, 5, 6}));
  ASSERT_EQ(skip.report.damage.size(), 1u);
  EXPECT_EQ(skip.report.damage[0].missing_sequences, 2u);
  EXPECT_EQ(read(kPointInTime).sequences, seqs({1, 2}));
}

TEST_F(WalReader, ZeroFilledTail) {
  save(1, segment(1, 1, 3, 3).bytes() + std::string(4096, '\0'));
  const Read r = read(kTolerate);
  ASSERT_TRUE(r.report.status);
  EXPECT_EQ(r.sequences, seqs({1, 2, 3}));
  ASSERT_EQ(r.report.damage.size(), 1u);
  EXPECT_EQ(r.report.damage[0].bytes, 4096u);
  EXPECT_EQ(r.report.damage[0].reason, "bad length");
}

TEST_F(WalReader, BadFileHeader) {
  save(1, segment(1, 1, 2).bytes());
  std::string f = segment(2, 3, 4).bytes();
  f[3] = 'x';
  save(2, f);
  // The newest file, with nothing durable in it: a torn tail.
  const Read newest = read(kTolerate);
  ASSERT_TRUE(newest.report.status);
  EXPECT_EQ(newest.sequences, seqs({1, 2}));
  // Once a newer segment exists it was synced: corruption.
  save(3, segment(3, 5, 5).bytes());
  EXPECT_FALSE(read(kTolerate).report.status);
  EXPECT_EQ(read(kSkip).sequences, seqs({1, 2, 3, 4, 5}));
}

TEST_F(WalReader, EmptyNewestSegmentIsNotDamage) {
  save(1, segment(1, 1, 2).bytes());
  save(2, "");
  const Read r = read(kAbsolute);
  EXPECT_TRUE(r.report.status);
  EXPECT_EQ(r.sequences, seqs({1, 2}));
}

TEST_F(WalReader, CheckpointWithoutEnd) {
  wal::FileBuilder c(wal::FileKind::checkpoint, 1, 1);
  c.add(1, brisk::test::sample_task(1));
  brisk::test::write_file(dir_.file("checkpoint-000001.log"), c.bytes());
  save(2, segment(2, 10, 11).bytes());
  const Read r = read(kTolerate);
  EXPECT_FALSE(r.report.status);
  EXPECT_NE(r.report.status.message().find("checkpoint has no end record"), std::string::npos);
  const Read skip = read(kSkip);
  ASSERT_TRUE(skip.report.status);
  EXPECT_EQ(skip.sequences, seqs({1, 10, 11}));
}

TEST_F(WalReader, CheckpointHidesTheSegmentsItCovers) {
  save(1, segment(1, 1, 2).bytes());
  wal::FileBuilder c(wal::FileKind::checkpoint, 1, 1);
  c.add(1, wal::CheckpointEnd{1, 2, 0});
  brisk::test::write_file(dir_.file("checkpoint-000001.log"), c.bytes());
  save(2, segment(2, 3, 4).bytes());
  const Read r = read(kAbsolute);
  ASSERT_TRUE(r.report.status) << r.report.status.to_string();
  EXPECT_EQ(r.sequences, seqs({1, 3, 4}));  // the checkpoint's own record, then segment 2
  EXPECT_EQ(r.report.obsolete_files, std::vector<std::string>{"wal-000001.log"});
  EXPECT_EQ(r.report.last_sequence, 4u);
}

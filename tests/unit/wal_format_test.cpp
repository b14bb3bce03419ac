// Encoding round trips: file names, file headers and every record payload.
#include <gtest/gtest.h>

#include "wal/coding.hpp"
#include "wal/file_builder.hpp"
#include "wal/log_format.hpp"
#include "wal/records.hpp"
#include "wal_test_support.hpp"

namespace wal = brisk::detail::wal;

namespace {

wal::Event round_trip(const wal::Event& e) {
  std::string payload;
  wal::encode(payload, e);
  wal::Event back;
  EXPECT_EQ(wal::decode(wal::type_of(e), payload, &back), "");
  std::string again;
  wal::encode(again, back);
  EXPECT_EQ(again, payload);
  return back;
}

}  // namespace

TEST(WalFormat, FileNamesRoundTrip) {
  EXPECT_EQ(wal::file_name(wal::FileKind::segment, 1), "wal-000001.log");
  EXPECT_EQ(wal::file_name(wal::FileKind::checkpoint, 1234567), "checkpoint-1234567.log");
  const auto seg = wal::parse_file_name("wal-000042.log");
  ASSERT_TRUE(seg.has_value());
  EXPECT_EQ(seg->kind, wal::FileKind::segment);
  EXPECT_EQ(seg->number, 42u);
  for (const char* bad : {"wal-.log", "wal-000000.log", "wal-12a.log", "wal-000001.log.damaged", "checkpoint-000001.tmp",
                          "LOCK", "wal-99999999999.log"}) {
    EXPECT_FALSE(wal::parse_file_name(bad).has_value()) << bad;
  }
}

TEST(WalFormat, FileHeaderRoundTripsAndRejectsDamage) {
  const std::string h = wal::encode_file_header({wal::FileKind::checkpoint, 7, 99});
  ASSERT_EQ(h.size(), wal::kFileHeaderSize);
  wal::FileHeader back;
  EXPECT_EQ(wal::decode_file_header(h, &back), "");
  EXPECT_EQ(back.kind, wal::FileKind::checkpoint);
  EXPECT_EQ(back.number, 7u);
  EXPECT_EQ(back.first_sequence, 99u);
  EXPECT_EQ(wal::decode_file_header(h.substr(0, 27), &back), "file header truncated");
  std::string flipped = h;
  flipped[13] ^= 1;
  EXPECT_EQ(wal::decode_file_header(flipped, &back), "file header checksum mismatch");
  std::string magic = h;
  magic[0] = 'X';
  EXPECT_EQ(wal::decode_file_header(magic, &back), "not a brisk WAL file (bad magic)");
}

TEST(WalFormat, EveryRecordTypeRoundTrips) {
  const wal::TaskImage task = brisk::test::sample_task(77, "order-1");
  const auto back = std::get<wal::TaskImage>(round_trip(task));
  EXPECT_EQ(back.id, 77u);
  EXPECT_EQ(back.type_name, "email.send");
  EXPECT_EQ(back.payload, task.payload);
  EXPECT_EQ(back.idempotency_key, "order-1");
  EXPECT_EQ(back.submit_ns, task.submit_ns);

  round_trip(wal::TaskCompleted{1});
  const auto retry = std::get<wal::TaskRetryScheduled>(round_trip(wal::TaskRetryScheduled{5, 3, -42}));
  EXPECT_EQ(retry.attempt, 3u);
  EXPECT_EQ(retry.next_due_ns, -42);
  wal::TaskDeadLettered dead{9, 2, {{10, 1, "boom"}, {20, 2, std::string("\0\xff", 2)}}};
  const auto dead_back = std::get<wal::TaskDeadLettered>(round_trip(dead));
  ASSERT_EQ(dead_back.failures.size(), 2u);
  EXPECT_EQ(dead_back.failures[1].message, std::string("\0\xff", 2));
  round_trip(wal::TaskCancelled{2});
  round_trip(wal::DlqReplayed{3});
  round_trip(wal::DlqPurged{});
  round_trip(wal::SyncMark{4096});
  round_trip(wal::KeyRetained{"k", 4, 5});
  round_trip(wal::CheckpointEnd{3, 1000, 77});
}

TEST(WalFormat, DecodeRejectsTruncationTrailingBytesAndUnknownVersions) {
  std::string payload;
  wal::encode(payload, brisk::test::sample_task(1));
  wal::Event e;
  for (std::size_t n = 0; n < payload.size(); ++n) {
    EXPECT_NE(wal::decode(wal::RecordType::task_submitted, payload.substr(0, n), &e), "") << n;
  }
  EXPECT_NE(wal::decode(wal::RecordType::task_submitted, payload + "x", &e), "");
  std::string v2 = payload;
  v2[0] = 2;
  EXPECT_EQ(wal::decode(wal::RecordType::task_submitted, v2, &e), "unsupported payload version 2");
}

TEST(WalFormat, HugeFailureCountIsRejectedWithoutAllocating) {
  std::string payload;
  wal::Encoder enc(payload);
  enc.u8(wal::kPayloadVersion);
  enc.u64(1);
  enc.u32(1);
  enc.u32(0xffffffffu);
  wal::Event e;
  EXPECT_NE(wal::decode(wal::RecordType::task_dead_lettered, payload, &e), "");
}

TEST(WalFormat, RecordLayoutMatchesTheDocumentedBytes) {
  wal::FileBuilder b(wal::FileKind::segment, 1, 5);
  const std::size_t at = b.add(5, wal::TaskCompleted{0x0102030405060708ull});
  const std::string& f = b.bytes();
  ASSERT_EQ(at, wal::kFileHeaderSize);
  EXPECT_EQ(wal::load_u32(f.data() + at + 4), 9u);  // version byte + u64 id
  EXPECT_EQ(static_cast<std::uint8_t>(f[at + 8]), static_cast<std::uint8_t>(wal::RecordType::task_completed));
  EXPECT_EQ(wal::load_u64(f.data() + at + 9), 5u);
  EXPECT_EQ(static_cast<std::uint8_t>(f[at + 17]), wal::kPayloadVersion);
  EXPECT_EQ(static_cast<std::uint8_t>(f[at + 18]), 0x08);  // little-endian id
  EXPECT_EQ(f.size(), at + wal::kRecordHeaderSize + 9);
}

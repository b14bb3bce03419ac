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

  wal::TaskImage extreme = task;
  extreme.id = ~0ull;
  extreme.run_at_ns = INT64_MIN;
  extreme.attempt = UINT32_MAX;
  const auto extreme_back = std::get<wal::TaskImage>(round_trip(extreme));
  EXPECT_EQ(extreme_back.id, ~0ull);
  EXPECT_EQ(extreme_back.run_at_ns, INT64_MIN);
  EXPECT_EQ(extreme_back.attempt, UINT32_MAX);
  round_trip(wal::TaskCompleted{{1}});
  const auto retry = std::get<wal::TaskRetryScheduled>(round_trip(wal::TaskRetryScheduled{5, 3, -42}));
  EXPECT_EQ(retry.attempt, 3u);
  EXPECT_EQ(retry.next_due_ns, -42);
  wal::TaskDeadLettered dead{9, 2, {{10, 1, "boom"}, {20, 2, std::string("\0\xff", 2)}}};
  const auto dead_back = std::get<wal::TaskDeadLettered>(round_trip(dead));
  ASSERT_EQ(dead_back.failures.size(), 2u);
  EXPECT_EQ(dead_back.failures[1].message, std::string("\0\xff", 2));
  round_trip(wal::TaskCancelled{2});
  round_trip(wal::DlqReplayed{3});
  EXPECT_EQ(std::get<wal::DlqDropped>(round_trip(wal::DlqDropped{300})).id, 300u);
  EXPECT_EQ(std::get<wal::DlqPurged>(round_trip(wal::DlqPurged{})).stream, wal::kAllLogStreams);
  EXPECT_EQ(std::get<wal::DlqPurged>(round_trip(wal::DlqPurged{3})).stream, 3u);
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
  std::string purge_of_stream_8;
  wal::encode(purge_of_stream_8, wal::DlqPurged{0});
  purge_of_stream_8.back() = static_cast<char>(wal::kLogStreams);
  EXPECT_EQ(wal::decode(wal::RecordType::dlq_purged, purge_of_stream_8, &e), "purge names log stream 8");
  std::string v4 = payload;
  v4[0] = 4;
  EXPECT_EQ(wal::decode(wal::RecordType::task_submitted, v4, &e), "unsupported payload version 4");
  // Version 3 is a task with a workflow section, and only that.
  std::string cancel_v3;
  wal::encode(cancel_v3, wal::TaskCancelled{1});
  cancel_v3[0] = 3;
  EXPECT_EQ(wal::decode(wal::RecordType::task_cancelled, cancel_v3, &e), "unsupported payload version 3");
  std::string no_section = payload;
  no_section[0] = 3;
  EXPECT_EQ(wal::decode(wal::RecordType::task_submitted, no_section, &e), "payload truncated");
}

// A task's workflow section (batch, chain steps, callback) round-trips, and
// a damaged one is refused, not misread.
TEST(WalFormat, AWorkflowSectionRoundTripsAndDamageIsRefused) {
  wal::TaskImage member = brisk::test::sample_task(9);
  member.workflow.role = wal::WorkflowRole::member;
  member.workflow.batch = 8;
  member.workflow.calls = {{"resize", ""}, {"upload", ""}};
  wal::TaskImage batch = brisk::test::sample_task(8);
  batch.workflow.role = wal::WorkflowRole::batch;
  batch.workflow.calls = {{"report", "r"}, {"", ""}};
  batch.workflow.sealed = true;
  batch.workflow.succeeded = 300;
  batch.workflow.dead_lettered = 2;
  batch.workflow.cancelled = 1;
  batch.workflow.which = wal::Workflow::kOnComplete;
  for (const wal::TaskImage& t : {member, batch}) {
    std::string payload;
    wal::encode(payload, t);
    EXPECT_EQ(payload.size(), wal::encoded_size(wal::as_ref(t)));
    EXPECT_EQ(payload[0], 3);
    wal::Event e;
    ASSERT_EQ(wal::decode(wal::RecordType::task_submitted, payload, &e), "");
    EXPECT_EQ(wal::describe(e), wal::describe(wal::Event{t}));
    const wal::Workflow& w = std::get<wal::TaskImage>(e).workflow;
    EXPECT_EQ(w.role, t.workflow.role);
    EXPECT_EQ(w.batch, t.workflow.batch);
    ASSERT_EQ(w.calls.size(), t.workflow.calls.size());
    EXPECT_EQ(w.calls[0].task, t.workflow.calls[0].task);
    EXPECT_EQ(w.succeeded, t.workflow.succeeded);
    EXPECT_EQ(w.which, t.workflow.which);
    wal::TaskImageRef plain = wal::as_ref(t);
    plain.workflow = nullptr;
    std::string bad_role = payload;
    bad_role[wal::encoded_size(plain)] = 9;  // the section's first byte
    EXPECT_EQ(wal::decode(wal::RecordType::task_submitted, bad_role, &e), "unknown workflow role 9");
    for (std::size_t n = 1; n < payload.size(); ++n) {
      EXPECT_NE(wal::decode(wal::RecordType::task_submitted, payload.substr(0, n), &e), "") << n;
    }
  }
}

TEST(WalFormat, VarintsRoundTripAtEveryWidthAndRejectOverflow) {
  for (const std::uint64_t v : {0ull, 1ull, 127ull, 128ull, 16383ull, 16384ull, 1ull << 35, 1ull << 63, ~0ull}) {
    std::string out;
    wal::Encoder(out).varint(v);
    EXPECT_EQ(out.size(), wal::varint_size(v)) << v;
    wal::Decoder d(out);
    EXPECT_EQ(d.varint(), v);
    EXPECT_TRUE(d.done()) << v;
  }
  for (const std::int64_t v : std::initializer_list<std::int64_t>{0, -1, 1, INT64_MIN, INT64_MAX}) EXPECT_EQ(wal::unzigzag(wal::zigzag(v)), v);
  EXPECT_EQ(wal::zigzag(-1), 1u);  // small either way: one byte
  // Eleven bytes, or a tenth byte carrying more than bit 63: over 64 bits.
  // (A Decoder holds a view: each input outlives it.)
  const std::string eleven = std::string(10, '\x80') + '\x01';
  wal::Decoder too_long(eleven);
  too_long.varint();
  EXPECT_FALSE(too_long.ok());
  const std::string past_bit_63 = std::string(9, '\xff') + '\x02';
  wal::Decoder over(past_bit_63);
  over.varint();
  EXPECT_FALSE(over.ok());
  const std::string cut_short(3, '\x80');  // continuation bits, then nothing
  wal::Decoder cut(cut_short);
  cut.varint();
  EXPECT_FALSE(cut.ok());
  std::string big;
  wal::Encoder(big).varint(1ull << 32);
  wal::Decoder over32(big);
  over32.varint32();
  EXPECT_FALSE(over32.ok());
}

TEST(WalFormat, CompletionsOfABatchRoundTripInAnyOrder) {
  const wal::TaskCompleted batch{{1000, 1003, 999, 1, ~0ull, 2}};
  EXPECT_EQ(std::get<wal::TaskCompleted>(round_trip(batch)).ids, batch.ids);
  // Nearby ids cost a byte each, not eight.
  std::vector<std::uint64_t> nearby;
  for (std::uint64_t id = 5000; id < 5016; ++id) nearby.push_back(id ^ 3);
  std::string payload;
  wal::encode(payload, wal::TaskCompleted{nearby});
  EXPECT_LE(payload.size(), 1 + 1 + 2 + 15u);
}

TEST(WalFormat, CompletionCountsThatCannotFitAreRejected) {
  wal::Event e;
  for (const std::uint64_t count : {0ull, 3ull, (1ull << 16) + 1, 1ull << 40}) {
    std::string payload;
    wal::Encoder enc(payload);
    enc.u8(wal::kPayloadVersion);
    enc.varint(count);
    // Bytes for 2^16 + 2 one-byte ids: a count of 0, or over 2^16, or over
    // what the bytes can hold (3 below) cannot be right.
    const std::size_t ids = count == 3 ? 2 : (1u << 16) + 2;
    for (std::size_t i = 0; i < ids; ++i) enc.varint(2);
    EXPECT_EQ(wal::decode(wal::RecordType::task_completed, payload, &e),
              "completion record lists " + std::to_string(count) + " tasks");
  }
}

TEST(WalFormat, HugeFailureCountIsRejectedWithoutAllocating) {
  std::string payload;
  wal::Encoder enc(payload);
  enc.u8(wal::kPayloadVersion);
  enc.varint(1);
  enc.varint(1);
  enc.varint(0xffffffffu);
  wal::Event e;
  EXPECT_EQ(wal::decode(wal::RecordType::task_dead_lettered, payload, &e), "dead letter lists 4294967295 failures");
}

TEST(WalFormat, RecordLayoutMatchesTheDocumentedBytes) {
  wal::FileBuilder b(wal::FileKind::segment, 1, 5);
  const std::size_t at = b.add(5, wal::TaskCompleted{{5, 3}});
  const std::string& f = b.bytes();
  ASSERT_EQ(at, wal::kFileHeaderSize);
  EXPECT_EQ(wal::load_u32(f.data() + at + 4), 4u);  // version, count, two ids
  EXPECT_EQ(static_cast<std::uint8_t>(f[at + 8]), static_cast<std::uint8_t>(wal::RecordType::task_completed));
  EXPECT_EQ(wal::load_u64(f.data() + at + 9), 5u);
  EXPECT_EQ(static_cast<std::uint8_t>(f[at + 17]), wal::kPayloadVersion);
  EXPECT_EQ(static_cast<std::uint8_t>(f[at + 18]), 2);     // count, a varint
  EXPECT_EQ(static_cast<std::uint8_t>(f[at + 19]), 10);    // zigzag(5 - 0)
  EXPECT_EQ(static_cast<std::uint8_t>(f[at + 20]), 3);     // zigzag(3 - 5)
  EXPECT_EQ(f.size(), at + wal::kRecordHeaderSize + 4);
}

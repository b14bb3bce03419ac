// The log writer: group commit, tickets, rotation, checkpoints, and what
// open() recovers.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <thread>

#include "platform/thread_number.hpp"
#include "wal/fault_injection_env.hpp"
#include "wal/log_writer.hpp"
#include "wal_test_support.hpp"

namespace wal = brisk::detail::wal;
using brisk::test::sample_task;

namespace {

class WalWriter : public ::testing::Test {
 protected:
  wal::WalOptions options(wal::FsyncPolicy policy = wal::FsyncPolicy::always) {
    wal::WalOptions o;
    o.dir = dir_.path();
    o.fsync = policy;
    o.fsync_interval = std::chrono::milliseconds(5);
    o.clock_ns = [this] { return now_; };
    return o;
  }
  std::unique_ptr<wal::Wal> open(const wal::WalOptions& o, wal::RecoveredState* state) {
    std::unique_ptr<wal::Wal> log;
    const wal::Status s = wal::Wal::open(o, &log, state);
    EXPECT_TRUE(s) << s.to_string() << "\n" << state->report.summary();
    return log;
  }
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path())) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }
  static std::set<brisk::TaskId> ids(const wal::RecoveredState& s) {
    std::set<brisk::TaskId> out;
    for (const auto& t : s.incomplete) out.insert(t.id);
    return out;
  }

  brisk::test::TempDir dir_;
  std::int64_t now_ = 1'000'000;
};

}  // namespace

TEST_F(WalWriter, FreshLogRecoversNothing) {
  wal::RecoveredState state;
  auto log = open(options(), &state);
  ASSERT_TRUE(log);
  EXPECT_TRUE(state.incomplete.empty());
  EXPECT_EQ(state.last_sequence, 0u);
  EXPECT_TRUE(log->close());
  EXPECT_EQ(files(), std::vector<std::string>{"wal-000001.log"});
}

TEST_F(WalWriter, LifecycleRecordsFoldIntoTheRecoveredState) {
  {
    wal::RecoveredState state;
    auto log = open(options(), &state);
    for (brisk::TaskId id = 1; id <= 6; ++id) {
      ASSERT_TRUE(log->append_and_wait(wal::as_ref(sample_task(id, id == 2 ? "key-2" : ""))));
    }
    ASSERT_TRUE(log->append_and_wait(wal::TaskCompleted{{1}}));
    ASSERT_TRUE(log->append_and_wait(wal::TaskRetryScheduled{3, 2, 5'000}));
    ASSERT_TRUE(log->append_and_wait(wal::TaskCancelled{4}));
    ASSERT_TRUE(log->append_and_wait(wal::TaskDeadLettered{5, 3, {{10, 1, "e1"}, {20, 2, "e2"}}}));
    ASSERT_TRUE(log->append_and_wait(wal::TaskDeadLettered{6, 1, {{30, 1, "e3"}}}));
    ASSERT_TRUE(log->append_and_wait(wal::DlqReplayed{6}));
    ASSERT_TRUE(log->close());
  }
  for (int reopen = 0; reopen < 2; ++reopen) {  // the second time from the checkpoint the first wrote
    wal::RecoveredState state;
    auto log = open(options(), &state);
    ASSERT_TRUE(log);
    EXPECT_EQ(ids(state), (std::set<brisk::TaskId>{2, 3}));
    const auto& t3 = state.incomplete[1];
    EXPECT_EQ(t3.id, 3u);
    EXPECT_EQ(t3.attempt, 2u);
    EXPECT_EQ(t3.run_at_ns, 5'000);
    EXPECT_EQ(t3.payload, sample_task(3).payload);
    ASSERT_EQ(state.dead_letters.size(), 1u);
    EXPECT_EQ(state.dead_letters[0].id, 5u);
    EXPECT_EQ(state.dead_letters[0].name, "email.send");
    EXPECT_EQ(state.dead_letters[0].attempts, 3u);
    ASSERT_EQ(state.dead_letters[0].failures.size(), 2u);
    EXPECT_EQ(state.dead_letters[0].failures[1].message, "e2");
    ASSERT_EQ(state.idempotency_keys.size(), 1u);
    EXPECT_EQ(state.idempotency_keys[0].key, "key-2");
    EXPECT_EQ(state.idempotency_keys[0].id, 2u);
    EXPECT_EQ(state.max_task_id, 6u);
    EXPECT_EQ(state.last_sequence, 12u);
    EXPECT_TRUE(state.report.damage.empty());
  }
}

// append_numbered's ids: in the stream asked for (so every later record
// about the task lands in the same stream as its submit), never repeated,
// and above every id the log held when it opened.
TEST_F(WalWriter, NumberedIdsKeepTheirStreamAndStayAboveTheLogsIds) {
  brisk::TaskId highest_before = 1000;  // a log with one task, id 1000, at LSN 1
  {
    wal::RecoveredState state;
    auto log = open(options(), &state);
    ASSERT_TRUE(log->append_and_wait(wal::as_ref(sample_task(highest_before))));
    ASSERT_TRUE(log->close());
  }
  std::set<brisk::TaskId> seen;
  for (int reopen = 0; reopen < 2; ++reopen) {
    wal::RecoveredState state;
    auto log = open(options(), &state);
    const brisk::TaskId floor = highest_before;
    for (std::uint32_t stream = 0; stream < 2 * wal::kLogStreams; ++stream) {
      for (int i = 0; i < 3; ++i) {
        brisk::TaskId id = 0;
        ASSERT_TRUE(log->wait(log->append_numbered(wal::as_ref(sample_task(0)), stream, &id)));
        EXPECT_EQ(wal::stream_of(id), stream % wal::kLogStreams);
        EXPECT_GT(id, floor);
        EXPECT_TRUE(seen.insert(id).second) << "id " << id << " handed out twice";
        highest_before = std::max(highest_before, id);
      }
    }
    ASSERT_TRUE(log->close());
  }
}

// A completion goes to the completing thread's stream, not its task's. When
// one batch holds both, the completion must still be laid out after the
// submit, or recovery would meet it first and run the task again. A slow
// disk makes the writer take many submit + completion pairs per batch, with
// each task in every stream but the completing thread's, below and above it.
TEST_F(WalWriter, ACompletionInAnotherStreamIsWrittenAfterItsTask) {
  wal::FaultInjectionEnv env(wal::WalEnv::posix());
  env.set_delays(std::chrono::milliseconds(2), std::chrono::microseconds(0));
  auto o = options();
  o.env = &env;
  wal::RecoveredState state;
  auto log = open(o, &state);
  const std::uint32_t mine = brisk::detail::this_thread_number() % wal::kLogStreams;
  constexpr int kTasks = 700;
  std::vector<wal::WalTicket> completions;
  for (int i = 0; i < kTasks; ++i) {
    const std::uint32_t stream = (mine + 1 + i % (wal::kLogStreams - 1)) % wal::kLogStreams;
    brisk::TaskId id = 0;
    ASSERT_TRUE(log->append_numbered(wal::as_ref(sample_task(0)), stream, &id).valid());
    const wal::WalTicket done = log->append(wal::TaskCompleted{{id}});
    ASSERT_EQ(done.stream(), mine);
    completions.push_back(done);
  }
  for (const wal::WalTicket t : completions) ASSERT_TRUE(log->wait(t));
  EXPECT_LT(log->stats().batches, kTasks / 10u) << "the pairs were not batched: the test checks nothing";
  ASSERT_TRUE(log->close());
  wal::RecoveredState after;
  ASSERT_TRUE(open(o, &after));
  EXPECT_TRUE(after.incomplete.empty()) << after.incomplete.size() << " completed tasks would run again";
}

TEST_F(WalWriter, EveryPolicyAcksEveryTicketAndLosesNothingOnCleanClose) {
  for (const auto policy : {wal::FsyncPolicy::always, wal::FsyncPolicy::interval, wal::FsyncPolicy::never}) {
    brisk::test::TempDir dir;
    auto o = options(policy);
    o.dir = dir.path();
    wal::RecoveredState state;
    auto log = open(o, &state);
    std::vector<wal::WalTicket> tickets;
    for (brisk::TaskId id = 1; id <= 1000; ++id) tickets.push_back(log->append(wal::as_ref(sample_task(id))));
    for (const auto t : tickets) ASSERT_TRUE(log->wait(t));
    EXPECT_TRUE(log->ready(tickets.back()));
    const auto total = [&](auto count_in) {
      std::uint64_t n = 0;
      for (std::uint32_t s = 0; s < wal::kLogStreams; ++s) n += count_in(s);
      return n;
    };
    EXPECT_EQ(total([&](std::uint32_t s) { return log->acked_in(s); }), 1000u);
    ASSERT_TRUE(log->sync());
    EXPECT_EQ(total([&](std::uint32_t s) { return log->synced_in(s); }), 1000u);
    ASSERT_TRUE(log->close());
    wal::RecoveredState again;
    auto reopened = open(o, &again);
    EXPECT_EQ(again.incomplete.size(), 1000u) << to_string(policy);
  }
}

TEST_F(WalWriter, ManyProducersGroupCommitEveryRecordOnce) {
  auto o = options();
  o.segment_bytes = 64 << 10;  // rotate a lot as well
  o.checkpoint_every_segments = 3;
  wal::RecoveredState state;
  auto log = open(o, &state);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 1500;
  std::vector<std::thread> producers;
  for (int p = 0; p < kThreads; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerThread; ++i) {
        const brisk::TaskId id = static_cast<brisk::TaskId>(p) * kPerThread + i + 1;
        const wal::WalTicket t = log->append(wal::as_ref(sample_task(id)));
        ASSERT_TRUE(t.valid());
        if (i % 2 == 1) ASSERT_TRUE(log->append_and_wait(wal::TaskCompleted{{id}}));
        if (i % 100 == 0) ASSERT_TRUE(log->wait(t));
      }
    });
  }
  for (auto& t : producers) t.join();
  const wal::WalStats stats = log->stats();
  EXPECT_EQ(stats.records, static_cast<std::uint64_t>(kThreads * kPerThread * 3 / 2));
  EXPECT_LT(stats.batches, stats.records);  // some batching happened
  ASSERT_TRUE(log->close());
  wal::RecoveredState again;
  auto reopened = open(o, &again);
  std::set<brisk::TaskId> want;
  for (int p = 0; p < kThreads; ++p) {
    for (int i = 0; i < kPerThread; i += 2) want.insert(static_cast<brisk::TaskId>(p) * kPerThread + i + 1);
  }
  EXPECT_EQ(ids(again), want);
  for (const auto& t : again.incomplete) EXPECT_EQ(t.payload, sample_task(t.id).payload);
}

TEST_F(WalWriter, CheckpointsKeepTheLogBounded) {
  auto o = options(wal::FsyncPolicy::never);
  o.segment_bytes = 8 << 10;
  o.checkpoint_every_segments = 0;  // compact() by hand, so the test sees it happen
  wal::RecoveredState state;
  auto log = open(o, &state);
  for (brisk::TaskId id = 1; id <= 2000; ++id) {
    log->append(wal::as_ref(sample_task(id, "k" + std::to_string(id))));
    if (id % 10 != 0) log->append(wal::TaskCompleted{{id}});
  }
  ASSERT_TRUE(log->sync());
  EXPECT_GT(files().size(), 20u);
  wal::CompactionResult result;
  ASSERT_TRUE(log->compact(&result));
  EXPECT_NE(result.checkpoint, 0u);
  EXPECT_LE(files().size(), 2u);  // the checkpoint and the open segment
  EXPECT_LT(result.bytes_after, result.bytes_before);
  ASSERT_TRUE(log->close());
  now_ = 2'500;  // keys were accepted at 1'000 + id: a 1'000 ns window keeps ids 500 and up
  o.key_retention_ns = 1'000;
  wal::RecoveredState again;
  auto reopened = open(o, &again);
  EXPECT_EQ(again.incomplete.size(), 200u);
  EXPECT_EQ(again.max_task_id, 2000u);
  EXPECT_EQ(again.idempotency_keys.size(), 1501u);
  EXPECT_EQ(again.idempotency_keys.front().key, "k500");
}

TEST_F(WalWriter, BackgroundCompactionRunsOnRotation) {
  auto o = options(wal::FsyncPolicy::never);
  o.segment_bytes = 4 << 10;
  o.checkpoint_every_segments = 2;
  wal::RecoveredState state;
  auto log = open(o, &state);
  for (brisk::TaskId id = 1; id <= 3000; ++id) {
    log->append(wal::as_ref(sample_task(id)));
    log->append(wal::TaskCompleted{{id}});
  }
  ASSERT_TRUE(log->close());
  EXPECT_GT(log->stats().checkpoints, 0u);
  EXPECT_TRUE(log->stats().last_compaction) << log->stats().last_compaction.to_string();
  wal::RecoveredState again;
  auto reopened = open(o, &again);
  EXPECT_TRUE(again.incomplete.empty());
  EXPECT_EQ(again.max_task_id, 3000u);
}

TEST_F(WalWriter, OversizedRecordIsRefusedAndTheLogKeepsWorking) {
  wal::RecoveredState state;
  auto log = open(options(), &state);
  wal::TaskImage huge = sample_task(1);
  huge.payload.assign(wal::kMaxPayloadSize + 1, 'x');
  const wal::WalTicket t = log->append(wal::as_ref(huge));
  EXPECT_FALSE(t.valid());
  EXPECT_EQ(log->wait(t).code(), wal::Status::Code::invalid);
  EXPECT_TRUE(log->append_and_wait(wal::as_ref(sample_task(2))));
  EXPECT_FALSE(log->failed());
}

TEST_F(WalWriter, AppendAfterCloseIsRefused) {
  wal::RecoveredState state;
  auto log = open(options(), &state);
  ASSERT_TRUE(log->close());
  const wal::WalTicket t = log->append(wal::TaskCompleted{{1}});
  EXPECT_FALSE(t.valid());
  EXPECT_EQ(log->wait(t).code(), wal::Status::Code::closed);
}

TEST_F(WalWriter, OpenRefusesMidLogDamageUnlessTheModeAllowsAndThenStartsClean) {
  auto o = options();
  o.segment_bytes = 4 << 10;
  o.checkpoint_every_segments = 0;
  {
    wal::RecoveredState state;
    auto log = open(o, &state);
    for (brisk::TaskId id = 1; id <= 200; ++id) ASSERT_TRUE(log->append_and_wait(wal::as_ref(sample_task(id))));
  }
  // Flip a byte in the middle of the second segment (synced: it has a successor).
  std::string seg = brisk::test::read_file(dir_.file("wal-000002.log"));
  seg[seg.size() / 2] ^= 0x40;
  brisk::test::write_file(dir_.file("wal-000002.log"), seg);

  wal::RecoveredState refused;
  std::unique_ptr<wal::Wal> log;
  const wal::Status s = wal::Wal::open(o, &log, &refused);
  EXPECT_EQ(s.code(), wal::Status::Code::corruption);
  EXPECT_NE(s.message().find("wal-000002.log offset"), std::string::npos) << s.message();

  o.recovery_mode = wal::RecoveryMode::skip_any_corrupted_record;
  wal::RecoveredState skipped;
  log = open(o, &skipped);
  ASSERT_TRUE(log);
  ASSERT_EQ(skipped.report.damage.size(), 1u);
  EXPECT_EQ(skipped.incomplete.size(), 199u);
  EXPECT_TRUE(std::filesystem::exists(dir_.file("wal-000002.log.damaged")));
  ASSERT_TRUE(log->close());

  o.recovery_mode = wal::RecoveryMode::absolute_consistency;  // the damage is behind us now
  wal::RecoveredState clean;
  log = open(o, &clean);
  EXPECT_TRUE(clean.report.damage.empty());
  EXPECT_EQ(clean.incomplete.size(), 199u);
}

// Disk faults and crashes: ENOSPC and EIO on every operation in turn (once,
// and from then on), during the workload and during recovery itself; a
// crash that drops, tears or scrambles unsynced data under each fsync
// policy. Each time: the failure is loud, and nothing acknowledged is lost.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "support/test_seed.hpp"
#include "wal/fault_injection_env.hpp"
#include "wal/log_writer.hpp"
#include "wal_test_support.hpp"

namespace wal = brisk::detail::wal;
using brisk::TaskId;
using brisk::test::sample_task;

namespace {

struct Acked {
  std::set<TaskId> submitted;
  std::set<TaskId> completed;
  std::set<TaskId> maybe_completed;  // the completion failed: it may or may not have reached the disk
};

wal::WalOptions options(wal::WalEnv& env, const std::string& dir, wal::FsyncPolicy policy) {
  wal::WalOptions o;
  o.dir = dir;
  o.env = &env;
  o.fsync = policy;
  o.fsync_interval = std::chrono::milliseconds(1);
  o.segment_bytes = 2048;
  o.checkpoint_every_segments = 0;  // compact() runs on this thread: the operation order is fixed
  return o;
}

// Submits tasks first..last one at a time, completing every third, with a
// compaction half way. Stops at the first refusal, which must be loud and
// final. Returns whether it got through without a fault.
bool workload(wal::WalEnv& env, const std::string& dir, TaskId first, TaskId last, Acked* acked) {
  std::unique_ptr<wal::Wal> log;
  wal::RecoveredState state;
  if (!wal::Wal::open(options(env, dir, wal::FsyncPolicy::always), &log, &state)) return false;
  for (TaskId id = first; id <= last; ++id) {
    wal::Status s = log->append_and_wait(wal::as_ref(sample_task(id)));
    if (s && id % 3 == 0) {
      s = log->append_and_wait(wal::TaskCompleted{{id}});
      (s ? acked->completed : acked->maybe_completed).insert(id);
      acked->submitted.insert(id);
    } else if (s) {
      acked->submitted.insert(id);
    }
    if (!s) {
      EXPECT_EQ(s.code(), wal::Status::Code::io_error) << s.to_string();
      EXPECT_NE(s.message().find("injected fault"), std::string::npos) << s.message();
      EXPECT_TRUE(log->failed());
      EXPECT_FALSE(log->append(wal::TaskCompleted{{id}}).valid());  // and stays failed
      return false;
    }
    if (id == first + (last - first) / 2) log->compact();  // a failure here must not hurt the log
  }
  return log->close().is_ok();
}

void expect_recovers(const std::string& dir, const Acked& acked, const std::string& context) {
  wal::RecoveredState state;
  const wal::Status s = wal::recover(wal::WalEnv::posix(), dir, {}, &state);
  ASSERT_TRUE(s) << context << ": " << s.to_string();
  std::set<TaskId> incomplete;
  for (const auto& t : state.incomplete) {
    EXPECT_EQ(t.payload, sample_task(t.id).payload) << context;
    incomplete.insert(t.id);
  }
  for (const TaskId id : acked.submitted) {
    if (!acked.completed.contains(id) && !acked.maybe_completed.contains(id)) EXPECT_TRUE(incomplete.contains(id)) << context << ": lost task " << id;
  }
  for (const TaskId id : acked.completed) EXPECT_FALSE(incomplete.contains(id)) << context << ": task " << id << " came back";
}

}  // namespace

TEST(WalFault, WriteErrorFailsLoudlyAndLosesNothingAcked) {
  brisk::test::TempDir dir;
  wal::FaultInjectionEnv env(wal::WalEnv::posix());
  std::unique_ptr<wal::Wal> log;
  wal::RecoveredState state;
  ASSERT_TRUE(wal::Wal::open(options(env, dir.path(), wal::FsyncPolicy::always), &log, &state));
  ASSERT_TRUE(log->append_and_wait(wal::as_ref(sample_task(1))));
  std::string reported;
  env.set_plan({.fail_at = 1, .persistent = false, .error = ENOSPC, .ops = wal::kFaultWrite});
  const wal::WalTicket t = log->append(wal::as_ref(sample_task(2)));
  const wal::Status s = log->wait(t);
  EXPECT_EQ(s.code(), wal::Status::Code::io_error);
  EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("write-ahead log failed"), std::string::npos) << s.message();
  EXPECT_LT(log->acked_in(t.stream()), t.nth());
  EXPECT_FALSE(log->append(wal::as_ref(sample_task(3))).valid());
  EXPECT_FALSE(log->sync());
  EXPECT_FALSE(log->close());
  expect_recovers(dir.path(), {{1}, {}, {}}, "after ENOSPC");
}

TEST(WalFault, SyncErrorIsNeverRetried) {
  brisk::test::TempDir dir;
  wal::FaultInjectionEnv env(wal::WalEnv::posix());
  std::unique_ptr<wal::Wal> log;
  wal::RecoveredState state;
  std::atomic<int> failures{0};
  auto o = options(env, dir.path(), wal::FsyncPolicy::always);
  o.on_failure = [&](const wal::Status&) { failures.fetch_add(1); };
  ASSERT_TRUE(wal::Wal::open(o, &log, &state));
  ASSERT_TRUE(log->append_and_wait(wal::as_ref(sample_task(1))));
  const std::uint32_t stream = wal::stream_of(2);
  const std::uint64_t acked_before = log->acked_in(stream);
  env.set_plan({.fail_at = 1, .persistent = false, .error = EIO, .ops = wal::kFaultSync});
  const wal::Status s = log->append_and_wait(wal::as_ref(sample_task(2)));
  EXPECT_NE(s.message().find("fdatasync"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("Input/output error"), std::string::npos) << s.message();
  // The fault was one-shot: a retried fdatasync would now succeed. It must not happen.
  EXPECT_FALSE(log->sync());
  EXPECT_FALSE(log->close());
  EXPECT_EQ(env.counted_operations(), 1u);
  EXPECT_EQ(log->acked_in(stream), acked_before);
  EXPECT_EQ(failures.load(), 1);
}

TEST(WalFault, FailTheNthOperationSweep) {
  for (const int error : {ENOSPC, EIO}) {
    for (const bool persistent : {false, true}) {
      for (std::uint64_t n = 1;; ++n) {
        brisk::test::TempDir dir;
        wal::FaultInjectionEnv env(wal::WalEnv::posix());
        Acked acked;
        ASSERT_TRUE(workload(env, dir.path(), 1, 12, &acked));  // a log to recover, written without faults
        env.set_plan({.fail_at = n, .persistent = persistent, .error = error});
        workload(env, dir.path(), 13, 24, &acked);  // faults during recovery, checkpoint and the workload
        const std::string context = std::string(error == EIO ? "EIO" : "ENOSPC") +
                                    (persistent ? " from" : " at") + " operation " + std::to_string(n);
        expect_recovers(dir.path(), acked, context);
        if (env.injected_faults() == 0) break;  // N passed the last operation: the sweep is complete
        ASSERT_LT(n, 1000u) << "the workload should end well before this";
      }
    }
  }
}

TEST(WalFault, CrashKeepsEveryRecordWithinThePolicysPromise) {
  const std::uint64_t seed = brisk::test::test_seed();
  std::mt19937_64 rng(seed);
  for (const auto policy : {wal::FsyncPolicy::always, wal::FsyncPolicy::interval, wal::FsyncPolicy::never}) {
    std::uint64_t promised_records = 0;
    for (const auto mode : {wal::CrashMode::drop_unsynced, wal::CrashMode::tear_unsynced,
                            wal::CrashMode::scramble_unsynced}) {
      for (int round = 0; round < 4; ++round) {
        brisk::test::TempDir dir;
        wal::FaultInjectionEnv env(wal::WalEnv::posix());
        auto o = options(env, dir.path(), policy);
        o.segment_bytes = 16 << 10;
        std::unique_ptr<wal::Wal> log;
        wal::RecoveredState state;
        ASSERT_TRUE(wal::Wal::open(o, &log, &state));
        constexpr TaskId kPerProducer = 4000;
        std::vector<wal::WalTicket> ticket_of(2 * kPerProducer + 1);
        std::vector<std::thread> producers;
        for (TaskId p = 0; p < 2; ++p) {
          producers.emplace_back([&, p] {
            for (TaskId id = p * kPerProducer + 1; id <= (p + 1) * kPerProducer; ++id) {
              const wal::WalTicket t = log->append(wal::as_ref(sample_task(id)));
              if (!t.valid()) return;  // crashed
              ticket_of[id] = t;
              if (id % 64 == 0) log->wait(t);
            }
          });
        }
        const auto crash_after = std::chrono::microseconds(rng() % 20'000);
        std::this_thread::sleep_for(crash_after);
        env.freeze();
        // What the policy promised at the moment of the crash.
        std::array<std::uint64_t, wal::kLogStreams> promised;
        for (std::uint32_t s = 0; s < wal::kLogStreams; ++s) {
          promised[s] = policy == wal::FsyncPolicy::always ? log->acked_in(s) : log->synced_in(s);
        }
        for (auto& t : producers) t.join();
        log->close();
        const std::uint64_t crash_seed = rng();
        ASSERT_TRUE(env.apply_crash(mode, crash_seed));
        const std::string context = std::string(to_string(policy)) + " crash mode " +
                                    std::to_string(static_cast<int>(mode)) + " crash seed " + std::to_string(crash_seed);
        Acked acked;
        for (TaskId id = 1; id < ticket_of.size(); ++id) {
          const wal::WalTicket t = ticket_of[id];
          if (t.valid() && t.nth() <= promised[t.stream()]) acked.submitted.insert(id);
        }
        expect_recovers(dir.path(), acked, context);
        promised_records += acked.submitted.size();
      }
    }
    if (policy == wal::FsyncPolicy::always) EXPECT_GT(promised_records, 0u) << "no crash came after an ack";
  }
}

// A worker's completion record lists tasks of many streams and is logged in
// the worker's own stream; once its ticket is acked, every task it lists
// must recover as completed, even though their submits sit in other streams
// and a producer keeps the writer taking batches meanwhile.
TEST(WalFault, ACompletionAcrossStreamsIsDurableAsAWholeOnceItsTicketIs) {
  brisk::test::TempDir dir;
  wal::FaultInjectionEnv env(wal::WalEnv::posix());
  auto o = options(env, dir.path(), wal::FsyncPolicy::always);
  o.segment_bytes = 1 << 20;
  std::unique_ptr<wal::Wal> log;
  wal::RecoveredState state;
  ASSERT_TRUE(wal::Wal::open(o, &log, &state));
  constexpr TaskId kTasks = 2000;  // ids 1..kTasks: every stream
  std::vector<wal::WalTicket> submits;
  for (TaskId id = 1; id <= kTasks; ++id) submits.push_back(log->append(wal::as_ref(sample_task(id))));
  for (const wal::WalTicket t : submits) ASSERT_TRUE(log->wait(t));
  std::atomic<bool> stop{false};
  std::thread busy([&] {
    for (TaskId id = kTasks + 1; !stop.load(std::memory_order_relaxed); ++id) {
      const wal::WalTicket t = log->append(wal::as_ref(sample_task(id)));
      if (!t.valid()) return;
      if (id % 16 == 0) log->wait(t);  // a batch or so ahead of the writer, not megabytes
    }
  });
  Acked acked;
  for (TaskId id = 1; id <= kTasks; ++id) acked.submitted.insert(id);
  for (TaskId first = 1; first + wal::kLogStreams <= kTasks; first += wal::kLogStreams) {
    std::vector<TaskId> batch;
    for (TaskId id = first; id < first + wal::kLogStreams; ++id) batch.push_back(id);
    ASSERT_TRUE(log->append_and_wait(wal::TaskCompleted{batch}));
    acked.completed.insert(batch.begin(), batch.end());
  }
  env.freeze();
  stop = true;
  busy.join();
  log->close();
  ASSERT_TRUE(env.apply_crash(wal::CrashMode::drop_unsynced, 1));
  expect_recovers(dir.path(), acked, "completions across streams");
}

// Disk faults and crashes: ENOSPC and EIO on every operation in turn (once,
// and from then on), during the workload and during recovery itself; a
// crash that drops, tears or scrambles unsynced data under each fsync
// policy. Each time: the failure is loud, and nothing acknowledged is lost.
#include <gtest/gtest.h>

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
  EXPECT_FALSE(log->ready(t) && log->acked_lsn() >= t.lsn);
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
  const std::uint64_t acked_before = log->acked_lsn();
  env.set_plan({.fail_at = 1, .persistent = false, .error = EIO, .ops = wal::kFaultSync});
  const wal::Status s = log->append_and_wait(wal::as_ref(sample_task(2)));
  EXPECT_NE(s.message().find("fdatasync"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("Input/output error"), std::string::npos) << s.message();
  // The fault was one-shot: a retried fdatasync would now succeed. It must not happen.
  EXPECT_FALSE(log->sync());
  EXPECT_FALSE(log->close());
  EXPECT_EQ(env.counted_operations(), 1u);
  EXPECT_EQ(log->acked_lsn(), acked_before);
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
        std::vector<std::uint64_t> lsn_of(2 * kPerProducer + 1, 0);
        std::vector<std::thread> producers;
        for (TaskId p = 0; p < 2; ++p) {
          producers.emplace_back([&, p] {
            for (TaskId id = p * kPerProducer + 1; id <= (p + 1) * kPerProducer; ++id) {
              const wal::WalTicket t = log->append(wal::as_ref(sample_task(id)));
              if (!t.valid()) return;  // crashed
              lsn_of[id] = t.lsn;
              if (id % 64 == 0) log->wait(t);
            }
          });
        }
        const auto crash_after = std::chrono::microseconds(rng() % 20'000);
        std::this_thread::sleep_for(crash_after);
        env.freeze();
        // What the policy promised at the moment of the crash.
        const std::uint64_t promised = policy == wal::FsyncPolicy::always ? log->acked_lsn() : log->synced_lsn();
        for (auto& t : producers) t.join();
        log->close();
        const std::uint64_t crash_seed = rng();
        ASSERT_TRUE(env.apply_crash(mode, crash_seed));
        const std::string context = std::string(to_string(policy)) + " crash mode " +
                                    std::to_string(static_cast<int>(mode)) + " crash seed " + std::to_string(crash_seed);
        Acked acked;
        for (TaskId id = 1; id < lsn_of.size(); ++id) {
          if (lsn_of[id] != 0 && lsn_of[id] <= promised) acked.submitted.insert(id);
        }
        expect_recovers(dir.path(), acked, context);
        promised_records += acked.submitted.size();
      }
    }
    if (policy == wal::FsyncPolicy::always) EXPECT_GT(promised_records, 0u) << "no crash came after an ack";
  }
}

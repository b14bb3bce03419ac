// Durability through the engine: what a restart brings back from the WAL.
#include "brisk/brisk.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "durability/durable_log.hpp"
#include "wal/log_writer.hpp"

namespace brisk {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class DurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/brisk-durability-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override { fs::remove_all(dir); }

  EngineConfig config() {
    EngineConfig c;
    c.workers = 2;
    c.pin_workers = false;
    c.clock = &clock;
    c.durability.wal_dir = dir;
    return c;
  }
  std::string dir;
  ManualClock clock;
};

TEST_F(DurabilityTest, AcknowledgedTasksRunAndCompletedOnesDoNotComeBack) {
  std::atomic<int> runs{0};
  {
    Engine engine(config());
    engine.register_task("job", [&](TaskContext&) { runs.fetch_add(1); });
    engine.start();
    for (int i = 0; i < 100; ++i) {
      const SubmitResult r = engine.submit("job", "p" + std::to_string(i));
      ASSERT_TRUE(r);
      ASSERT_NE(r.durable_ticket, 0u);
      EXPECT_TRUE(engine.wait_durable(r));
      EXPECT_TRUE(engine.is_durable(r));
    }
    engine.drain();
  }
  EXPECT_EQ(runs.load(), 100);
  Engine again(config());
  again.register_task("job", [&](TaskContext&) { runs.fetch_add(1); });
  again.start();
  again.drain();
  EXPECT_EQ(again.recovery_report().tasks_requeued, 0u);
  EXPECT_EQ(runs.load(), 100) << "completed tasks must not run again";
}

TEST_F(DurabilityTest, AWorkerLogsTheCompletionsOfABatchTogetherAndDrainSeesThemLogged) {
  // In a forked child that dies without a clean close (_Exit), so that only
  // what was appended before drain() returned can be in the log.
  GTEST_FLAG_SET(death_test_style, "fast");  // no engine thread exists yet
  constexpr int kQueued = 200;
  auto child = [&] {
    std::atomic<bool> release{false};
    EngineConfig c = config();
    c.workers = 1;
    Engine engine(c);
    engine.register_task("gate", [&](TaskContext&) {
      while (!release.load()) std::this_thread::yield();
    });
    engine.register_task("job", [](TaskContext&) {});
    engine.register_task("marker", [](TaskContext&) {
      for (;;) std::this_thread::sleep_for(1h);  // never completes
    });
    engine.start();
    if (!engine.submit("gate", "")) std::_Exit(2);
    // The one worker is busy: these queue up and then run in full batches.
    for (int i = 0; i < kQueued; ++i) {
      if (!engine.wait_durable(engine.submit("job", "p"))) std::_Exit(3);
    }
    const std::uint64_t records_before = engine.stats().wal_records;
    release.store(true);
    engine.drain();
    // Records are written in append order: once the marker is on disk, so is
    // everything appended before drain() returned.
    if (!engine.wait_durable(engine.submit("marker", ""))) std::_Exit(4);
    const std::uint64_t completion_records = engine.stats().wal_records - records_before - 1;
    std::fprintf(stderr, "completion_records=%llu\n", static_cast<unsigned long long>(completion_records));
    std::_Exit(0);
  };
  // The completions of a batch (up to steal_batch, 16; a pop takes half of
  // what is queued, so batches shrink at the end) share a record: far fewer
  // than one each (about 30 here), and at least one.
  EXPECT_EXIT(child(), ::testing::ExitedWithCode(0), "completion_records=([1-9]|[1-4][0-9])\n");
  std::atomic<int> jobs{0}, markers{0};
  Engine again(config());
  again.register_task("gate", [](TaskContext&) {});
  again.register_task("job", [&](TaskContext&) { jobs.fetch_add(1); });
  again.register_task("marker", [&](TaskContext&) { markers.fetch_add(1); });
  again.start();
  again.drain();
  EXPECT_EQ(again.recovery_report().tasks_requeued, 1u) << "only the marker: every job's completion was logged";
  EXPECT_EQ(markers.load(), 1);
  EXPECT_EQ(jobs.load(), 0);
}

TEST_F(DurabilityTest, PendingRetryAndDelayKeepAttemptAndDueTime) {
  TaskTypeOptions slow_retry;
  slow_retry.retry.max_attempts = 5;
  slow_retry.retry.base = 1h;
  slow_retry.retry.cap = 1h;
  slow_retry.retry.jitter = false;
  {
    Engine engine(config());
    engine.register_task("flaky", [](TaskContext&) { return Outcome::retry("later"); }, slow_retry);
    engine.register_task("later", [](TaskContext&) {});
    engine.start();
    ASSERT_TRUE(engine.wait_durable(engine.submit("flaky", "f")));
    TaskOptions o;
    o.delay = 2h;
    ASSERT_TRUE(engine.wait_durable(engine.submit("later", "l", o)));
    engine.drain();  // flaky ran once and now waits an hour
  }
  std::atomic<std::uint32_t> attempt_seen{0};
  std::atomic<int> later_runs{0};
  Engine engine(config());
  engine.register_task("flaky", [&](TaskContext& t) {
    attempt_seen = t.attempt();
    return Outcome::success();
  }, slow_retry);
  engine.register_task("later", [&](TaskContext&) { later_runs.fetch_add(1); });
  engine.start();
  EXPECT_EQ(engine.recovery_report().tasks_requeued, 2u);
  engine.drain();
  EXPECT_EQ(attempt_seen.load(), 0u) << "the retry kept its due time: not yet";
  clock.advance(61min);
  engine.drain();
  EXPECT_EQ(attempt_seen.load(), 2u) << "the retry kept its attempt count";
  EXPECT_EQ(later_runs.load(), 0);
  clock.advance(60min);
  engine.drain();
  EXPECT_EQ(later_runs.load(), 1);
}

// Durable ids must never repeat across restarts: a new task given the id of
// a recovered one would log a completion that, on the next start, retires
// the old task unrun.
TEST_F(DurabilityTest, TasksAcceptedAfterARestartNeverTakeTheIdOfARecoveredTask) {
  TaskOptions in_an_hour;
  in_an_hour.delay = 1h;
  {
    Engine engine(config());
    engine.register_task("later", [](TaskContext&) {});
    engine.start();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(engine.wait_durable(engine.submit("later", "l", in_an_hour)));
  }
  for (int restart = 0; restart < 2; ++restart) {
    Engine engine(config());
    engine.register_task("later", [](TaskContext&) {});
    engine.register_task("now", [](TaskContext&) {});
    engine.start();
    ASSERT_EQ(engine.recovery_report().tasks_requeued, 3u) << "restart " << restart;
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(engine.wait_durable(engine.submit("now", "n")));
    engine.drain();
  }
  std::atomic<int> later_runs{0};
  Engine engine(config());
  engine.register_task("later", [&](TaskContext&) { later_runs.fetch_add(1); });
  engine.register_task("now", [](TaskContext&) {});
  engine.start();
  EXPECT_EQ(engine.recovery_report().tasks_requeued, 3u);
  clock.advance(61min);
  engine.drain();
  EXPECT_EQ(later_runs.load(), 3);
}

// A log may hold ids above its last LSN (written when ids came from a
// counter of their own, or from the LSN), and every new id must still be
// above all of them.
TEST_F(DurabilityTest, NewIdsStayAboveEveryIdTheLogAlreadyHolds) {
  {
    detail::wal::WalOptions options;
    options.dir = dir;
    std::unique_ptr<detail::wal::Wal> log;
    detail::wal::RecoveredState nothing;
    ASSERT_TRUE(detail::wal::Wal::open(options, &log, &nothing).is_ok());
    const std::int64_t wall_now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count();
    detail::wal::TaskImage old;
    old.id = 1000;  // in a log whose last LSN is 1
    old.type_name = "later";
    old.payload = "old";
    old.run_at_ns = wall_now + std::chrono::nanoseconds(1h).count();
    old.submit_ns = wall_now;
    ASSERT_TRUE(log->append_and_wait(detail::wal::as_ref(old)).is_ok());
    ASSERT_TRUE(log->close().is_ok());
  }
  constexpr std::uint64_t kNew = 1100;  // ids 2..1101 if they simply followed the LSNs
  TaskOptions in_two_hours;
  in_two_hours.delay = 2h;
  {
    Engine engine(config());
    engine.register_task("later", [](TaskContext&) {});
    engine.start();
    ASSERT_EQ(engine.recovery_report().tasks_requeued, 1u);
    for (std::uint64_t i = 0; i < kNew; ++i) {
      ASSERT_TRUE(engine.wait_durable(engine.submit("later", "new", in_two_hours)));
    }
  }
  Engine engine(config());
  engine.register_task("later", [](TaskContext&) {});
  engine.start();
  EXPECT_EQ(engine.recovery_report().tasks_requeued, kNew + 1) << "a new task took the old one's id";
}

TEST_F(DurabilityTest, DeadLettersAndIdempotencyKeysComeBack) {
  {
    Engine engine(config());
    TaskTypeOptions once;
    once.retry.max_attempts = 1;
    engine.register_task("charge", [](TaskContext& t) {
      return t.payload() == "bad" ? Outcome::fail("card declined") : Outcome::success();
    }, once);
    engine.start();
    TaskOptions keyed;
    keyed.idempotency_key = "order-1";
    ASSERT_TRUE(engine.wait_durable(engine.submit("charge", "ok", keyed)));
    ASSERT_TRUE(engine.wait_durable(engine.submit("charge", "bad")));
    engine.drain();
    ASSERT_EQ(engine.dead_letter_count(), 1u);
  }
  std::atomic<int> runs{0};
  Engine engine(config());
  engine.register_task("charge", [&](TaskContext&) { runs.fetch_add(1); });
  engine.start();
  ASSERT_EQ(engine.dead_letter_count(), 1u);
  const DeadLetter letter = engine.dead_letters().front();
  EXPECT_EQ(letter.payload, "bad");
  ASSERT_FALSE(letter.failures.empty());
  EXPECT_EQ(letter.failures.back().message, "card declined");
  TaskOptions keyed;
  keyed.idempotency_key = "order-1";
  EXPECT_EQ(engine.submit("charge", "ok", keyed).status, SubmitStatus::duplicate) << "key survives a restart";
  ASSERT_TRUE(engine.replay_dead_letter(letter.id));
  engine.drain();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(engine.dead_letter_count(), 0u);
}

// The log keeps order only within a stream. A replayed dead letter's new
// task must be logged ahead of the DlqReplayed record (else a crash between
// the two loses the letter and the task), so it goes to the letter's stream,
// whichever thread replays it.
TEST_F(DurabilityTest, AReplayedLetterIsLoggedInTheLettersStreamAheadOfTheReplay) {
  DurabilityConfig durability;
  durability.wal_dir = dir;
  detail::wal::RecoveredState recovered;
  detail::DurableLog log(durability, clock, 0, &recovered);
  detail::TaskRecord letter_task;
  const std::uint64_t letter_ticket = log.submitted(letter_task, "t", "");
  ASSERT_NE(letter_ticket, 0u);
  const std::uint32_t letter_stream = detail::wal::stream_of(letter_task.durable_id);
  // From another thread, whose own stream is another one (thread numbers
  // are handed out in turn: of two new threads, one has another stream).
  detail::TaskRecord replayed;
  bool replayed_elsewhere = false;
  for (int attempt = 0; attempt < 2 && !replayed_elsewhere; ++attempt) {
    std::thread([&] {
      detail::TaskRecord own;
      ASSERT_NE(log.submitted(own, "t", ""), 0u);
      if (detail::wal::stream_of(own.durable_id) == letter_stream) return;
      replayed_elsewhere = true;
      ASSERT_NE(log.submitted(replayed, "t", "", letter_task.durable_id), 0u);
      ASSERT_TRUE(log.wait(log.dlq_replayed(letter_task.durable_id)));
    }).join();
  }
  ASSERT_TRUE(replayed_elsewhere);
  EXPECT_EQ(detail::wal::stream_of(replayed.durable_id), letter_stream);
  log.close();
  std::uint64_t submit_lsn = 0;
  std::uint64_t replay_lsn = 0;
  detail::wal::read_log(detail::wal::WalEnv::posix(), dir, {}, [&](const detail::wal::RecordView& r) {
    if (const auto* t = std::get_if<detail::wal::TaskImage>(&r.event); t && t->id == replayed.durable_id) {
      submit_lsn = r.sequence;
    }
    if (std::holds_alternative<detail::wal::DlqReplayed>(r.event)) replay_lsn = r.sequence;
  });
  ASSERT_NE(submit_lsn, 0u);
  EXPECT_LT(submit_lsn, replay_lsn);
}

TEST_F(DurabilityTest, UnknownTaskNameAfterRestartIsDeadLetteredNotLost) {
  {
    Engine engine(config());
    engine.register_task("old_name", [](TaskContext&) {});
    TaskOptions o;
    o.delay = 1h;
    engine.start();
    ASSERT_TRUE(engine.wait_durable(engine.submit("old_name", "data", o)));
  }
  Engine engine(config());
  engine.register_task("new_name", [](TaskContext&) {});
  engine.start();
  ASSERT_EQ(engine.dead_letter_count(), 1u);
  EXPECT_EQ(engine.dead_letters().front().name, "old_name");
  EXPECT_EQ(engine.dead_letters().front().payload, "data");
}

// A disk that refuses writes, for real: RLIMIT_FSIZE makes the log's
// write() past 256 KiB fail with EFBIG, as a full disk fails with ENOSPC.
// In a child process (the limit and the failed engine stay there), which
// reports on stderr and exits; the parent then recovers what it acked.
TEST_F(DurabilityTest, ADiskThatRefusesWritesFailsDurableSubmitsLoudlyAndLosesNothingAcked) {
  // fork() without exec: the child sees this test's directory (no engine
  // thread exists yet to make the fork unsafe).
  GTEST_FLAG_SET(death_test_style, "fast");
  const std::string acked_file = dir + "-acked";
  auto child = [&] {
    ::signal(SIGXFSZ, SIG_IGN);  // EFBIG from write(), not a signal
    const rlimit limit{256 << 10, 256 << 10};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    std::atomic<bool> never{false};
    Engine engine(config());
    // Handlers never finish: every acked task must come back after a restart.
    engine.register_task("job", [&](TaskContext&) {
      while (!never.load()) std::this_thread::sleep_for(1ms);
    });
    engine.start();
    int acked = 0;
    SubmitResult refused;
    for (int i = 0; i < 100'000; ++i) {
      SubmitResult r = engine.submit("job", std::string(100, 'x'));
      if (!r || !engine.wait_durable(r)) {
        refused = engine.submit("job", "after");
        break;
      }
      ++acked;
    }
    const EngineStats stats = engine.stats();
    TaskOptions memory;
    memory.durability = Durability::memory;
    const bool memory_ok = static_cast<bool>(engine.submit("job", "m", memory));
    std::ofstream(acked_file) << acked;
    std::fprintf(stderr, "acked=%d refused=%s wal_failed=%d memory_ok=%d reason=[%s] failure=[%s]\n", acked,
                 std::string(to_string(refused.status)).c_str(), stats.wal_failed, memory_ok,
                 std::string(refused.reason).c_str(), stats.wal_failure.c_str());
    std::_Exit(0);  // as if the process died: no drain, no clean close
  };
  EXPECT_EXIT(child(), ::testing::ExitedWithCode(0),
              "acked=[1-9][0-9]* refused=durability_failed wal_failed=1 memory_ok=1 "
              "reason=\\[the write-ahead log has failed.*EngineStats::wal_failure.*\\] "
              "failure=\\[write-ahead log failed; records after LSN [0-9]+ may not be durable.*"
              "write .*wal-[0-9]+\\.log: File too large\\]");
  int acked = 0;
  std::ifstream(acked_file) >> acked;
  fs::remove(acked_file);
  ASSERT_GT(acked, 0);
  std::atomic<int> runs{0};
  Engine again(config());
  again.register_task("job", [&](TaskContext&) { runs.fetch_add(1); });
  again.start();
  again.drain();
  EXPECT_GE(again.recovery_report().tasks_requeued, static_cast<std::uint64_t>(acked));
  EXPECT_GE(runs.load(), acked) << "every task acknowledged before the disk failed runs after the restart";
}

TEST_F(DurabilityTest, MemoryOverrideIsNotLoggedAndDurableNeedsALog) {
  {
    Engine engine(config());
    engine.register_task("t", [](TaskContext&) {});
    engine.start();
    TaskOptions memory;
    memory.durability = Durability::memory;
    memory.delay = 1h;
    const SubmitResult r = engine.submit("t", "", memory);
    ASSERT_TRUE(r);
    EXPECT_EQ(r.durable_ticket, 0u);
    EXPECT_FALSE(engine.wait_durable(r));
  }
  Engine engine(config());
  engine.register_task("t", [](TaskContext&) {});
  engine.start();
  EXPECT_EQ(engine.recovery_report().tasks_requeued, 0u);

  EngineConfig no_log;
  no_log.workers = 1;
  no_log.pin_workers = false;
  Engine memory_only(no_log);
  memory_only.register_task("t", [](TaskContext&) {});
  TaskOptions durable;
  durable.durability = Durability::durable;
  EXPECT_EQ(memory_only.submit("t", "", durable).status, SubmitStatus::invalid);
}

TEST_F(DurabilityTest, CorruptionInTheMiddleStopsStartUnlessTheModeSkips) {
  {
    Engine engine(config());
    engine.register_task("t", [](TaskContext&) {});
    engine.start();
    TaskOptions o;
    o.delay = 1h;
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(engine.wait_durable(engine.submit("t", std::string(100, 'x'), o)));
  }
  // Flip bytes in the middle of the largest log file, inside a task's
  // payload (not a small control record: that would cost no task).
  fs::path victim;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (victim.empty() || fs::file_size(e.path()) > fs::file_size(victim)) victim = e.path();
  }
  ASSERT_FALSE(victim.empty());
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
    const std::size_t payload = bytes.find(std::string(100, 'x'), bytes.size() / 2);
    ASSERT_NE(payload, std::string::npos);
    f.seekp(static_cast<std::streamoff>(payload + 50));
    f.write("\xde\xad\xbe\xef", 4);
  }
  {
    Engine strict(config());
    strict.register_task("t", [](TaskContext&) {});
    try {
      strict.start();
      FAIL() << "mid-log corruption must stop the start";
    } catch (const RecoveryError& e) {
      EXPECT_NE(std::string(e.what()).find(victim.filename().string()), std::string::npos) << e.what();
    }
  }
  EngineConfig lenient = config();
  lenient.durability.recovery_mode = RecoveryMode::skip_any_corrupted_record;
  Engine engine(lenient);
  engine.register_task("t", [](TaskContext&) {});
  engine.start();
  const RecoveryReport& report = engine.recovery_report();
  EXPECT_FALSE(report.damage.empty()) << "every skip is reported";
  EXPECT_GT(report.tasks_requeued, 150u);
  EXPECT_LT(report.tasks_requeued, 200u);
}

}  // namespace
}  // namespace brisk

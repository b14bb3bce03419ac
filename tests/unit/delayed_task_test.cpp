// Time on a ManualClock: delays, retries with backoff, the dead-letter queue,
// cancellation, rate limits, soft deadlines, idempotency keys.
#include "brisk/brisk.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "support/eventually.hpp"
#include "wal_test_support.hpp"

namespace brisk {
namespace {

using namespace std::chrono_literals;

class TimeTest : public ::testing::Test {
 protected:
  EngineConfig config() {
    EngineConfig c;
    c.workers = 2;
    c.pin_workers = false;
    c.clock = &clock;
    return c;
  }
  ManualClock clock;
};

TEST_F(TimeTest, DelayedTaskRunsOnlyWhenDue) {
  Engine engine(config());
  std::atomic<int> ran{0};
  engine.register_task("later", [&](TaskContext&) { ran.fetch_add(1); });
  engine.start();
  TaskOptions o;
  o.delay = 5s;
  ASSERT_TRUE(engine.submit("later", "", o));
  engine.drain();
  EXPECT_EQ(ran.load(), 0) << "ran before its delay";
  EXPECT_EQ(engine.stats().pending_timers, 1u);
  clock.advance(4999ms);
  engine.drain();
  EXPECT_EQ(ran.load(), 0) << "ran 1 ms early";
  clock.advance(2ms);  // due + 1 ms: within one tick
  engine.drain();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(engine.stats().pending_timers, 0u);
}

TEST_F(TimeTest, RunAtUsesTheEngineClock) {
  Engine engine(config());
  std::atomic<int> ran{0};
  engine.register_task("at", [&](TaskContext&) { ran.fetch_add(1); });
  engine.start();
  TaskOptions o;
  o.run_at_ns = clock.now_ns() + 60'000'000'000LL;  // a minute ahead
  ASSERT_TRUE(engine.submit("at", "", o));
  clock.advance(59s);
  engine.drain();
  EXPECT_EQ(ran.load(), 0);
  clock.advance(2s);
  engine.drain();
  EXPECT_EQ(ran.load(), 1);
}

TEST_F(TimeTest, BackoffScheduleFollowsPolicyThenDeadLetters) {
  Engine engine(config());
  std::mutex mutex;
  std::vector<std::int64_t> attempt_times;
  std::vector<std::uint32_t> attempts_seen;
  TaskTypeOptions o;
  o.retry.max_attempts = 4;
  o.retry.base = 100ms;
  o.retry.cap = 250ms;
  o.retry.jitter = false;
  engine.register_task("flaky", [&](TaskContext& t) {
    std::lock_guard lock(mutex);
    attempt_times.push_back(clock.now_ns());
    attempts_seen.push_back(t.attempt());
    return Outcome::retry("upstream 503");
  }, o);
  engine.start();
  const SubmitResult r = engine.submit("flaky", "payload-1");
  ASSERT_TRUE(r);
  // Walk the clock 1 ms at a time and record when each attempt ran.
  for (int ms = 0; ms < 1000; ++ms) {
    engine.drain();
    clock.advance(1ms);
  }
  engine.drain();
  ASSERT_EQ(attempts_seen, (std::vector<std::uint32_t>{1, 2, 3, 4}));
  // Delays: 100, 200, then capped at 250 ms; each within one tick of due.
  const std::int64_t expected[] = {100, 200, 250};
  for (int i = 0; i < 3; ++i) {
    const std::int64_t gap_ms = (attempt_times[i + 1] - attempt_times[i]) / 1'000'000;
    EXPECT_GE(gap_ms, expected[i]) << "retry " << i + 1 << " too early";
    EXPECT_LE(gap_ms, expected[i] + 2) << "retry " << i + 1 << " late by more than a tick";
  }
  ASSERT_EQ(engine.dead_letter_count(), 1u);
  const DeadLetter letter = engine.dead_letters().front();
  EXPECT_EQ(letter.name, "flaky");
  EXPECT_EQ(letter.payload, "payload-1");
  EXPECT_EQ(letter.attempts, 4u);
  ASSERT_EQ(letter.failures.size(), 4u);
  EXPECT_EQ(letter.failures[3].message, "upstream 503");
  EXPECT_EQ(letter.failures[0].time_ns, attempt_times[0]);
}

TEST_F(TimeTest, PermanentFailureSkipsRetries) {
  Engine engine(config());
  std::atomic<int> runs{0};
  engine.register_task("bad_input", [&](TaskContext&) {
    runs.fetch_add(1);
    return Outcome::fail("malformed address");
  });
  engine.start();
  ASSERT_TRUE(engine.submit("bad_input", "x"));
  engine.drain();
  clock.advance(1h);
  engine.drain();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(engine.dead_letter_count(), 1u);
}

TEST_F(TimeTest, ExceptionsRetryUnlessConfiguredPermanent) {
  Engine engine(config());
  std::atomic<int> retryable{0}, permanent{0};
  TaskTypeOptions two;
  two.retry.max_attempts = 2;
  two.retry.base = 1ms;
  two.retry.cap = 1ms;
  engine.register_task("throws", [&](TaskContext&) -> Outcome {
    retryable.fetch_add(1);
    throw std::runtime_error("boom");
  }, two);
  TaskTypeOptions perm = two;
  perm.exceptions_are_permanent = true;
  engine.register_task("throws_perm", [&](TaskContext&) -> Outcome {
    permanent.fetch_add(1);
    throw std::runtime_error("boom");
  }, perm);
  engine.start();
  ASSERT_TRUE(engine.submit("throws", ""));
  ASSERT_TRUE(engine.submit("throws_perm", ""));
  for (int i = 0; i < 5; ++i) {
    engine.drain();
    clock.advance(1ms);
  }
  engine.drain();
  EXPECT_EQ(retryable.load(), 2);
  EXPECT_EQ(permanent.load(), 1);
  ASSERT_EQ(engine.dead_letter_count(), 2u);
  for (const DeadLetter& l : engine.dead_letters()) EXPECT_EQ(l.failures.back().message, "boom");
}

TEST_F(TimeTest, ReplayRunsADeadLetterAgainAndPurgeEmpties) {
  Engine engine(config());
  std::atomic<int> runs{0};
  std::atomic<bool> healthy{false};
  engine.register_task("sync_crm", [&](TaskContext& t) {
    runs.fetch_add(1);
    EXPECT_EQ(t.payload(), "account-7");
    return healthy ? Outcome::success() : Outcome::fail("crm down");
  });
  engine.start();
  ASSERT_TRUE(engine.submit("sync_crm", "account-7"));
  ASSERT_TRUE(engine.submit("sync_crm", "account-7"));
  engine.drain();
  ASSERT_EQ(engine.dead_letter_count(), 2u);
  healthy = true;
  const TaskId first = engine.dead_letters().front().id;
  ASSERT_TRUE(engine.replay_dead_letter(first));
  engine.drain();
  EXPECT_EQ(runs.load(), 3);
  EXPECT_EQ(engine.dead_letter_count(), 1u);
  EXPECT_EQ(engine.replay_dead_letter(first).status, SubmitStatus::invalid) << "already replayed";
  EXPECT_EQ(engine.purge_dead_letters(), 1u);
  EXPECT_EQ(engine.dead_letter_count(), 0u);
}

TEST_F(TimeTest, CancelledDelayedTaskNeverRuns) {
  Engine engine(config());
  std::atomic<int> ran{0};
  engine.register_task("reminder", [&](TaskContext&) { ran.fetch_add(1); });
  engine.start();
  TaskOptions o;
  o.delay = 10s;
  const SubmitResult keep = engine.submit("reminder", "", o);
  const SubmitResult drop = engine.submit("reminder", "", o);
  ASSERT_TRUE(keep);
  ASSERT_TRUE(drop);
  EXPECT_TRUE(engine.cancel(drop.id));
  EXPECT_FALSE(engine.cancel(drop.id)) << "cancelling twice";
  clock.advance(11s);
  engine.drain();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_FALSE(engine.cancel(keep.id)) << "a finished task cannot be cancelled";
  EXPECT_FALSE(engine.cancel(0));
}

TEST_F(TimeTest, ManyDelayedTasksCancelledLeaveNothingBehind) {
  EngineConfig c = config();
  c.max_named_tasks = 1u << 17;
  Engine engine(c);
  std::atomic<int> ran{0};
  engine.register_task("t", [&](TaskContext&) { ran.fetch_add(1); });
  engine.start();
  std::vector<TaskId> ids;
  TaskOptions o;
  o.delay = 1h;
  for (int i = 0; i < 100'000; ++i) {
    const SubmitResult r = engine.submit("t", "", o);
    ASSERT_TRUE(r);
    ids.push_back(r.id);
  }
  for (TaskId id : ids) ASSERT_TRUE(engine.cancel(id));
  clock.advance(2h);
  engine.drain();
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(engine.stats().pending_timers, 0u);
  EXPECT_EQ(engine.stats().named_in_flight, 0u) << "every task record came back";
}

TEST_F(TimeTest, CancelRacingTheTimerThatFiresTheTaskEndsItExactlyOnce) {
  // Each cancel() meets the delay scheduler firing the same task: either
  // the cancel wins (the task never runs) or the task was already queued
  // (cancel answers true while queued, false once running). Never both,
  // never neither. Under TSan this also checks that the canceller sees what
  // the scheduler wrote to a record it left to the canceller. Logged, so
  // that each cancel() spends a while between its two steps (it appends the
  // cancellation in between) and the scheduler meets many of them there.
  test::TempDir dir;
  EngineConfig c = config();
  c.max_named_tasks = 1u << 15;
  c.durability.wal_dir = dir.path();
  c.durability.fsync = FsyncPolicy::never;
  Engine engine(c);
  std::atomic<int> ran{0};
  engine.register_task("t", [&](TaskContext&) { ran.fetch_add(1); });
  engine.start();
  constexpr int kTasks = 20'000;
  std::vector<TaskId> ids;
  TaskOptions o;
  o.delay = 1s;
  for (int i = 0; i < kTasks; ++i) {
    const SubmitResult r = engine.submit("t", "", o);
    ASSERT_TRUE(r);
    ids.push_back(r.id);
  }
  std::thread fire([&] {
    clock.advance(2s);
    engine.drain();  // makes the scheduler look at the clock now
  });
  int cancelled = 0;
  for (TaskId id : ids) cancelled += engine.cancel(id) ? 1 : 0;
  fire.join();
  engine.drain();
  EXPECT_EQ(ran.load() + cancelled, kTasks);
  EXPECT_EQ(engine.stats().pending_timers, 0u);
  EXPECT_EQ(engine.stats().named_in_flight, 0u) << "every task record came back";
}

TEST_F(TimeTest, RateLimitHoldsOverTwoSeconds) {
  Engine engine(config());
  std::atomic<int> ran{0};
  TaskTypeOptions o;
  o.rate_per_second = 200;
  engine.register_task("api_call", [&](TaskContext&) { ran.fetch_add(1); }, o);
  std::atomic<int> other{0};
  engine.register_task("other", [&](TaskContext&) { other.fetch_add(1); });
  engine.start();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(engine.submit("api_call", ""));
  ASSERT_TRUE(engine.submit("other", ""));
  for (int ms = 0; ms < 2000; ++ms) {
    engine.drain();
    clock.advance(1ms);
  }
  engine.drain();
  EXPECT_NEAR(ran.load(), 400, 400 * 0.05) << "200/s over 2 s";
  EXPECT_EQ(other.load(), 1) << "a rate-limited type must not hold up another";
}

TEST_F(TimeTest, ABacklogWaitingForARateCostsOneWaitEachAndTakesNoRingRoom) {
  // 3000 tasks at 1000/s: each waits for a turn of its own on the timer,
  // once. Asking again on wake-up instead woke all waiters together: ~n^2/2
  // waits, rings full of tasks that should be waiting, other types refused.
  EngineConfig c = config();
  c.workers = 1;
  c.ring_capacity = 256;
  Engine engine(c);
  std::atomic<int> ran{0};
  TaskTypeOptions o;
  o.rate_per_second = 1000;
  engine.register_task("api_call", [&](TaskContext&) { ran.fetch_add(1); }, o);
  std::atomic<int> other{0};
  engine.register_task("other", [&](TaskContext&) { other.fetch_add(1); });
  engine.start();
  constexpr int kBacklog = 3000;
  for (int i = 0; i < kBacklog; ++i) ASSERT_TRUE(engine.submit("api_call", "")) << i;
  int other_refused = 0;
  for (int ms = 0; ms < 1000; ++ms) {
    if (ms % 10 == 0) {
      for (int i = 0; i < 3; ++i) other_refused += engine.submit("other", "").accepted() ? 0 : 1;
    }
    engine.drain();
    clock.advance(1ms);
  }
  engine.drain();
  EXPECT_NEAR(ran.load(), 1000, 1000 * 0.03) << "1000/s over 1 s, whatever the backlog";
  EXPECT_EQ(other_refused, 0) << "waiting for a rate must not take ring room from another type";
  EXPECT_EQ(other.load(), 300);
  const EngineStats stats = engine.stats();
  std::uint64_t waits = 0;
  for (const TaskTypeStats& t : stats.task_types) {
    if (t.name == "api_call") waits = t.rate_limited;
  }
  EXPECT_LE(waits, static_cast<std::uint64_t>(kBacklog)) << "one wait per task at most";
  EXPECT_LE(stats.executed, static_cast<std::uint64_t>(ran.load() + other.load()) + 10)
      << "workers ran jobs that only went back to wait";
}

TEST_F(TimeTest, HandlerSeesSoftDeadlineAndAttempt) {
  EngineConfig c = config();
  Engine engine(c);
  TaskTypeOptions o;
  o.soft_timeout = 50ms;
  std::atomic<bool> before{true}, after{false};
  std::atomic<std::int64_t> deadline{0};
  engine.register_task("report", [&](TaskContext& t) {
    deadline = t.soft_deadline_ns();
    before = t.past_soft_deadline();
    clock.advance(60ms);
    after = t.past_soft_deadline();
  }, o);
  engine.start();
  const std::int64_t submitted = clock.now_ns();
  ASSERT_TRUE(engine.submit("report", ""));
  engine.drain();
  EXPECT_EQ(deadline.load(), submitted + 50'000'000);
  EXPECT_FALSE(before.load());
  EXPECT_TRUE(after.load());
}

TEST_F(TimeTest, IdempotencyKeyRunsOnceWithinRetention) {
  EngineConfig c = config();
  c.idempotency_retention = 1h;
  Engine engine(c);
  std::atomic<int> charged{0};
  engine.register_task("charge", [&](TaskContext&) { charged.fetch_add(1); });
  engine.start();
  TaskOptions o;
  o.idempotency_key = "order-42";
  const SubmitResult first = engine.submit("charge", "42.00", o);
  ASSERT_TRUE(first);
  const SubmitResult again = engine.submit("charge", "42.00", o);
  EXPECT_EQ(again.status, SubmitStatus::duplicate);
  EXPECT_EQ(again.id, first.id);
  engine.drain();
  EXPECT_EQ(engine.submit("charge", "42.00", o).status, SubmitStatus::duplicate) << "after it ran too";
  clock.advance(61min);
  EXPECT_TRUE(engine.submit("charge", "42.00", o)) << "retention passed: a new charge";
  engine.drain();
  EXPECT_EQ(charged.load(), 2);
}

TEST(NamedTasks, BadInputGetsClearAnswers) {
  EngineConfig c;
  c.workers = 1;
  c.pin_workers = false;
  c.max_payload_bytes = 16;
  Engine engine(c);
  engine.register_task("ok", [](TaskContext&) {});
  EXPECT_THROW(engine.register_task("ok", [](TaskContext&) {}), ConfigError) << "duplicate name";
  EXPECT_THROW(engine.register_task("", [](TaskContext&) {}), ConfigError) << "empty name";
  TaskTypeOptions bad;
  bad.rate_per_second = -1;
  EXPECT_THROW(engine.register_task("neg", [](TaskContext&) {}, bad), ConfigError);
  bad = {};
  bad.retry.max_attempts = 0;
  EXPECT_THROW(engine.register_task("zero", [](TaskContext&) {}, bad), ConfigError);
  engine.start();
  EXPECT_THROW(engine.register_task("late", [](TaskContext&) {}), ConfigError) << "after start";
  SubmitResult r = engine.submit("nope", "");
  EXPECT_EQ(r.status, SubmitStatus::invalid);
  EXPECT_EQ(r.reason, "unknown task name");
  EXPECT_EQ(engine.submit("", "").reason, "empty task name");
  EXPECT_EQ(engine.submit("ok", std::string(17, 'x')).status, SubmitStatus::invalid);
  TaskOptions o;
  o.priority = 9;
  EXPECT_EQ(engine.submit("ok", "", o).status, SubmitStatus::invalid);
  o = {};
  o.delay = -1s;
  EXPECT_EQ(engine.submit("ok", "", o).status, SubmitStatus::invalid);
  EXPECT_TRUE(engine.submit("ok", std::string(16, 'x')));
  engine.drain();
}

}  // namespace
}  // namespace brisk

namespace brisk {
namespace {

TEST(HardLimit, StuckAttemptIsRetriedOnAReplacementWorkerAndItsLateResultDropped) {
  using namespace std::chrono_literals;
  ManualClock clock;
  EngineConfig c;
  c.workers = 1;
  c.pin_workers = false;
  c.clock = &clock;
  Engine engine(c);
  TaskTypeOptions o;
  o.hard_timeout = 100ms;
  o.retry.max_attempts = 2;
  o.retry.base = 1ms;
  o.retry.cap = 1ms;
  o.retry.jitter = false;
  std::atomic<bool> stuck{false}, release{false}, saw_cancel{false}, second{false};
  engine.register_task("hangs", [&](TaskContext& t) {
    if (t.attempt() == 1) {
      stuck = true;
      while (!release.load()) {
        if (t.cancellation_requested()) saw_cancel = true;
        std::this_thread::sleep_for(100us);
      }
      return Outcome::success();  // too late: must be discarded
    }
    second = true;
    return Outcome::success();
  }, o);
  engine.start();
  ASSERT_TRUE(engine.submit("hangs", ""));
  using test::eventually;
  ASSERT_TRUE(eventually([&] { return stuck.load(); }));
  clock.advance(101ms);
  ASSERT_TRUE(eventually([&] { return engine.stats().workers.size() == 2; })) << "no replacement worker";
  ASSERT_TRUE(eventually([&] { return saw_cancel.load(); })) << "the stuck handler was not asked to stop";
  clock.advance(2ms);
  engine.drain();
  ASSERT_TRUE(eventually([&] { return second.load(); })) << "the retry did not run while attempt 1 hung";
  release = true;
  ASSERT_TRUE(eventually([&] { return engine.stats().task_types[0].late_results == 1; }));
  const TaskTypeStats t = engine.stats().task_types[0];
  EXPECT_EQ(t.timed_out, 1u);
  EXPECT_EQ(t.succeeded, 1u) << "only the retry's success counts";
  EXPECT_EQ(engine.stats().named_in_flight, 0u);
}

}  // namespace
}  // namespace brisk

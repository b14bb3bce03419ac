// Engine::status / wait / on_finished and task results (issue 17): every
// state a caller can see, results and their limit, and never a wrong answer
// (a reused record, an evicted or made-up id).
#include "brisk/brisk.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/eventually.hpp"
#include "support/set_on_exit.hpp"

namespace brisk {
namespace {

using namespace std::chrono_literals;
using test::eventually;

class TaskStatusTest : public ::testing::Test {
 protected:
  EngineConfig config() {
    EngineConfig c;
    c.workers = 2;
    c.pin_workers = false;
    c.clock = &clock;
    c.task_status.max_finished = 1024;
    return c;
  }
  ManualClock clock;
};

TEST_F(TaskStatusTest, ADelayedTaskGoesFromDelayedToSucceededWithItsResultAndTimes) {
  Engine engine(config());
  engine.register_task("resize", [](TaskContext& t) { t.set_result("thumb:" + std::string(t.payload())); });
  engine.start();
  const SubmitResult r = engine.submit("resize", "cat.png", TaskOptions{.delay = 5s});
  ASSERT_TRUE(r);
  TaskInfo info = engine.status(r.id);
  EXPECT_EQ(info.state, TaskState::delayed);
  EXPECT_EQ(info.attempts, 0u);
  EXPECT_GT(info.accepted_ns, 0);
  clock.advance(6s);
  engine.drain();
  info = engine.status(r.id);
  EXPECT_EQ(info.state, TaskState::succeeded) << to_string(info.state);
  EXPECT_EQ(info.result, "thumb:cat.png");
  EXPECT_EQ(info.attempts, 1u);
  EXPECT_GT(info.started_ns, info.accepted_ns);
  EXPECT_GE(info.finished_ns, info.started_ns);
}

// A worker stamps a task's start with the previous task's end when nothing
// ran between them in its batch: a closure or a callback that took time in
// between must not leave the next start in the past.
TEST_F(TaskStatusTest, BackToBackTasksInOneBatchStartAfterWhatRanBetweenThem) {
  EngineConfig c = config();
  c.workers = 1;
  Engine engine(c);
  std::atomic<bool> release{false};
  const test::SetOnExit release_on_exit{release};
  engine.register_task("gate", [&](TaskContext&) {
    while (!release.load()) std::this_thread::sleep_for(1ms);
  });
  engine.register_task("step", [&](TaskContext&) { clock.advance(1s); });
  engine.start();
  const SubmitResult gate = engine.submit("gate", "");
  ASSERT_TRUE(eventually([&] { return engine.status(gate.id).state == TaskState::running; }));
  // Queued behind the gate, so that the worker takes them in one batch.
  const SubmitResult first = engine.submit("step", "");
  engine.on_finished(first.id, [&](const TaskInfo&) { clock.advance(10s); });
  const SubmitResult second = engine.submit("step", "");
  ASSERT_EQ(engine.post([&] { clock.advance(100s); }), SubmitStatus::accepted);
  const SubmitResult third = engine.submit("step", "");
  const SubmitResult fourth = engine.submit("step", "");
  release.store(true);
  engine.drain();
  const TaskInfo a = engine.status(first.id), b = engine.status(second.id), c3 = engine.status(third.id),
                 d = engine.status(fourth.id);
  ASSERT_EQ(d.state, TaskState::succeeded) << to_string(d.state);
  EXPECT_GE(a.finished_ns, a.started_ns + 1'000'000'000);
  EXPECT_GE(b.started_ns, a.finished_ns + 10'000'000'000) << "a callback ran between them";
  EXPECT_GE(c3.started_ns, b.finished_ns + 100'000'000'000) << "a closure ran between them";
  EXPECT_GE(d.started_ns, c3.finished_ns);
  EXPECT_GE(d.finished_ns, d.started_ns + 1'000'000'000);
}

TEST_F(TaskStatusTest, ARunningTaskSaysRunningAndARetryWaitsWithItsError) {
  std::atomic<bool> release{false};
  Engine engine(config());
  const test::SetOnExit release_on_exit{release};
  engine.register_task("slow", [&](TaskContext&) {
    while (!release.load()) std::this_thread::sleep_for(1ms);
  });
  TaskTypeOptions twice;
  twice.retry.max_attempts = 2;
  twice.retry.jitter = false;
  engine.register_task("flaky", [](TaskContext&) { return Outcome::retry("smtp busy"); }, twice);
  engine.start();
  const SubmitResult slow = engine.submit("slow", "");
  ASSERT_TRUE(eventually([&] { return engine.status(slow.id).state == TaskState::running; }));
  EXPECT_EQ(engine.status(slow.id).attempts, 1u);
  EXPECT_GT(engine.status(slow.id).started_ns, 0);
  release.store(true);

  const SubmitResult flaky = engine.submit("flaky", "");
  engine.drain();
  TaskInfo info = engine.status(flaky.id);
  EXPECT_EQ(info.state, TaskState::retry_waiting) << to_string(info.state);
  EXPECT_EQ(info.attempts, 1u);
  clock.advance(1h);
  engine.drain();
  info = engine.status(flaky.id);
  EXPECT_EQ(info.state, TaskState::dead_lettered) << to_string(info.state);
  EXPECT_EQ(info.attempts, 2u);
  EXPECT_EQ(info.last_error, "smtp busy");
}

TEST_F(TaskStatusTest, ACancelledTaskSaysCancelledAndAnUnknownIdSaysUnknown) {
  Engine engine(config());
  engine.register_task("later", [](TaskContext&) {});
  engine.start();
  const SubmitResult r = engine.submit("later", "", TaskOptions{.delay = 1h});
  ASSERT_TRUE(engine.cancel(r.id));
  EXPECT_EQ(engine.status(r.id).state, TaskState::cancelled);
  EXPECT_EQ(engine.status(0).state, TaskState::unknown);
  EXPECT_EQ(engine.status(r.id + (std::uint64_t{7} << 32)).state, TaskState::unknown) << "a generation never issued";
  EXPECT_EQ(engine.status(0xffffffffu).state, TaskState::unknown) << "an index beyond the table";
}

TEST_F(TaskStatusTest, AReusedRecordNeverReportsAnotherTasksState) {
  EngineConfig c = config();
  c.workers = 1;
  c.task_status.max_finished = 4;
  Engine engine(c);
  engine.register_task("job", [](TaskContext& t) { t.set_result(t.payload()); });
  engine.start();
  std::vector<TaskId> ids;
  for (int i = 0; i < 50; ++i) {
    const SubmitResult r = engine.submit("job", std::to_string(i));
    ASSERT_TRUE(r);
    ids.push_back(r.id);
    engine.drain();  // one at a time: every task reuses the same few records
  }
  for (int i = 0; i < 50; ++i) {
    const TaskInfo info = engine.status(ids[i]);
    if (i < 46) {
      EXPECT_EQ(info.state, TaskState::unknown) << i << ": evicted (max_finished 4)";
    } else {
      EXPECT_EQ(info.state, TaskState::succeeded) << i;
      EXPECT_EQ(info.result, std::to_string(i)) << "another task's result";
    }
  }
  EXPECT_EQ(engine.stats().finished_evicted, 46u);
  EXPECT_EQ(engine.stats().finished_remembered, 4u);
}

TEST_F(TaskStatusTest, ByDefaultLiveAndFinishedStatesAreAnswered) {
  EngineConfig c = config();
  c.task_status = {};
  Engine engine(c);
  engine.register_task("job", [](TaskContext& ctx) { ctx.set_result("done"); });
  engine.start();
  const SubmitResult later = engine.submit("job", "", TaskOptions{.delay = 1h});
  const SubmitResult now = engine.submit("job", "");
  engine.drain();
  EXPECT_EQ(engine.status(later.id).state, TaskState::delayed);
  const TaskInfo finished = engine.status(now.id);
  EXPECT_EQ(finished.state, TaskState::succeeded) << "finished tasks are remembered by default";
  EXPECT_EQ(finished.result, "done");
  EXPECT_EQ(engine.stats().finished_remembered, 1u);
}

TEST_F(TaskStatusTest, WithNothingRememberedFinishedStatesAreUnknown) {
  EngineConfig c = config();
  c.task_status.max_finished = 0;
  Engine engine(c);
  engine.register_task("job", [](TaskContext&) {});
  engine.start();
  const SubmitResult now = engine.submit("job", "");
  engine.drain();
  EXPECT_EQ(engine.status(now.id).state, TaskState::unknown) << "finished, and nothing is remembered";
  EXPECT_EQ(engine.stats().finished_remembered, 0u);
}

TEST_F(TaskStatusTest, FinishedTasksAreForgottenAfterTheirRetention) {
  EngineConfig c = config();
  c.task_status.retention = 10min;
  Engine engine(c);
  engine.register_task("job", [](TaskContext&) {});
  engine.start();
  const SubmitResult r = engine.submit("job", "");
  engine.drain();
  EXPECT_EQ(engine.status(r.id).state, TaskState::succeeded);
  clock.advance(11min);
  EXPECT_EQ(engine.status(r.id).state, TaskState::unknown);
}

TEST_F(TaskStatusTest, AResultOverTheLimitFailsTheTaskSayingSoNeverTruncated) {
  EngineConfig c = config();
  c.task_status.max_result_bytes = 8;
  Engine engine(c);
  TaskTypeOptions once;
  once.retry.max_attempts = 1;
  engine.register_task("big", [](TaskContext& t) { t.set_result(std::string(9, 'x')); }, once);
  engine.register_task("fits", [](TaskContext& t) { t.set_result(std::string(8, 'y')); });
  engine.start();
  const SubmitResult big = engine.submit("big", "");
  const SubmitResult fits = engine.submit("fits", "");
  engine.drain();
  const TaskInfo info = engine.status(big.id);
  EXPECT_EQ(info.state, TaskState::dead_lettered);
  EXPECT_EQ(info.last_error, "result of 9 bytes is over task_status.max_result_bytes (8)");
  EXPECT_TRUE(info.result.empty());
  EXPECT_EQ(engine.status(fits.id).result, std::string(8, 'y'));
}

TEST_F(TaskStatusTest, WaitBlocksUntilFinalAndTimesOutWithTheLiveState) {
  EngineConfig c = config();
  c.clock = nullptr;  // real time: wait() has a real timeout
  std::atomic<bool> release{false};
  Engine engine(c);
  const test::SetOnExit release_on_exit{release};
  engine.register_task("slow", [&](TaskContext& t) {
    while (!release.load()) std::this_thread::sleep_for(1ms);
    t.set_result("done");
  });
  engine.start();
  const SubmitResult r = engine.submit("slow", "");
  ASSERT_TRUE(eventually([&] { return engine.status(r.id).state == TaskState::running; }));
  EXPECT_EQ(engine.wait(r.id, 20ms).state, TaskState::running) << "timed out: the state then";
  auto waited = std::async(std::launch::async, [&] { return engine.wait(r.id, 60s); });
  std::this_thread::sleep_for(10ms);
  release.store(true);
  const TaskInfo info = waited.get();
  EXPECT_EQ(info.state, TaskState::succeeded);
  EXPECT_EQ(info.result, "done");
  EXPECT_EQ(engine.wait(0, 60s).state, TaskState::unknown) << "an unknown task is answered at once";
}

TEST_F(TaskStatusTest, WaitFromATaskThrowsAndOnFinishedRunsOnceWithTheFinalState) {
  EngineConfig c = config();
  c.clock = nullptr;
  std::atomic<bool> release{false};
  Engine engine(c);
  const test::SetOnExit release_on_exit{release};
  engine.register_task("slow", [&](TaskContext& t) {
    while (!release.load()) std::this_thread::sleep_for(1ms);
    t.set_result("r");
  });
  std::string thrown;
  std::atomic<bool> caught{false};  // release/acquire: publishes `thrown` to the test thread
  engine.register_task("waiter", [&](TaskContext& t) {
    try {
      engine.wait(static_cast<TaskId>(std::stoull(std::string(t.payload()))), 1s);
    } catch (const std::logic_error& e) {
      thrown = e.what();
      caught.store(true, std::memory_order_release);
    }
  });
  engine.start();
  const SubmitResult slow = engine.submit("slow", "");
  std::atomic<int> calls{0};
  std::promise<TaskInfo> seen;
  engine.on_finished(slow.id, [&](const TaskInfo& info) {
    calls.fetch_add(1);
    seen.set_value(info);
  });
  ASSERT_TRUE(engine.submit("waiter", std::to_string(slow.id)));
  ASSERT_TRUE(eventually([&] { return caught.load(std::memory_order_acquire); }));
  EXPECT_NE(thrown.find("use on_finished()"), std::string::npos) << thrown;
  release.store(true);
  const TaskInfo info = seen.get_future().get();
  EXPECT_EQ(info.state, TaskState::succeeded);
  EXPECT_EQ(info.result, "r");
  engine.drain();
  EXPECT_EQ(calls.load(), 1);
  // Already final: the callback runs at once, on this thread.
  TaskState now = TaskState::unknown;
  engine.on_finished(slow.id, [&](const TaskInfo& i) { now = i.state; });
  EXPECT_EQ(now, TaskState::succeeded);
}

// Workers finish tasks (records reused, the store evicting all the time)
// while readers ask for any task submitted so far: every final answer is
// that task's own (its id, its result), whole; never another task's.
TEST_F(TaskStatusTest, ReadersDuringFinishingNeverSeeAnotherTasksState) {
  EngineConfig c = config();
  c.clock = nullptr;
  c.task_status.max_finished = 64;
  Engine engine(c);
  engine.register_task("echo", [](TaskContext& t) {
    if (t.payload().back() % 2 == 0) t.set_result(t.payload());  // half with texts, half without
  });
  engine.start();
  constexpr std::size_t kTasks = 20'000;
  std::vector<std::atomic<TaskId>> ids(kTasks);
  std::atomic<std::size_t> submitted{0};  // release/acquire: ids[0, submitted) are set
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      std::uint64_t seed = 12345u + r;
      for (;;) {
        const std::size_t n = submitted.load(std::memory_order_acquire);
        if (n == kTasks) return;
        if (n == 0) continue;
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        // Mostly the last few dozen (still remembered), sometimes any.
        const std::size_t back = (seed >> 33) % (seed % 4 == 0 ? n : std::min<std::size_t>(n, 96));
        const std::size_t i = n - 1 - back;
        const TaskId id = ids[i].load(std::memory_order_relaxed);
        const TaskInfo info = engine.status(id);
        if (info.state == TaskState::unknown || !is_final(info.state)) continue;
        ASSERT_EQ(info.id, id);
        ASSERT_EQ(info.state, TaskState::succeeded) << i;
        ASSERT_EQ(info.attempts, 1u) << i;
        const std::string payload = std::to_string(i);
        ASSERT_EQ(info.result, payload.back() % 2 == 0 ? payload : "") << i << ": another task's result";
        ASSERT_GE(info.finished_ns, info.started_ns) << i;
      }
    });
  }
  for (std::size_t i = 0; i < kTasks; ++i) {
    SubmitResult r;
    while (!(r = engine.submit("echo", std::to_string(i)))) std::this_thread::yield();
    ids[i].store(r.id, std::memory_order_relaxed);
    submitted.store(i + 1, std::memory_order_release);
  }
  for (std::thread& t : readers) t.join();
  engine.drain();
  EXPECT_EQ(engine.stats().finished_remembered + engine.stats().finished_evicted, kTasks);
  EXPECT_LE(engine.stats().finished_remembered, 64u);
  // One more, alone: the newest finished task is remembered, with its result.
  const SubmitResult last = engine.submit("echo", "last0");
  engine.drain();
  const TaskInfo info = engine.status(last.id);
  EXPECT_EQ(info.state, TaskState::succeeded);
  EXPECT_EQ(info.result, "last0");
}

TEST(TaskStatusConfig, BadSettingsAreRefusedNamingTheField) {
  EngineConfig c;
  c.pin_workers = false;
  c.task_status.retention = std::chrono::nanoseconds(0);
  try {
    Engine engine(c);
    ADD_FAILURE() << "accepted a retention of 0";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "task_status.retention must be > 0");
  }
  c.task_status = {};
  c.task_status.max_finished = (std::size_t{1} << 31) + 1;
  try {
    Engine engine(c);
    ADD_FAILURE() << "accepted max_finished over 2^31";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("task_status.max_finished must be <= 2^31"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace brisk

// What the API answered is what a restart brings back: a refused task never
// runs, a cancelled one never runs again, a durable submission is either
// logged or refused, and a ticket is answered truly (issue 19, items 1-4, 8).
#include "brisk/brisk.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/set_on_exit.hpp"

namespace brisk {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class DurableAnswersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/brisk-answers-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override { fs::remove_all(dir); }

  EngineConfig config() {
    EngineConfig c;
    c.workers = 1;
    c.pin_workers = false;
    c.ring_capacity = 2;
    c.durability.wal_dir = dir;
    return c;
  }

  // Restarts on the log and returns the payloads that ran.
  std::multiset<std::string> run_after_restart(const std::vector<std::string>& names) {
    std::mutex m;
    std::multiset<std::string> ran;
    Engine again(config());
    for (const std::string& name : names) {
      again.register_task(name, [&](TaskContext& t) {
        std::lock_guard lock(m);
        ran.insert(std::string(t.payload()));
      });
    }
    again.start();
    again.drain();
    again.shutdown();
    return ran;
  }

  std::string dir;
};

// Runs f on another thread; fails the test (instead of hanging it) if f
// does not return within a generous bound.
template <class F>
auto returns_promptly(F f) {
  auto result = std::async(std::launch::async, f);
  EXPECT_EQ(result.wait_for(30s), std::future_status::ready) << "blocked";
  return result.get();
}

TEST_F(DurableAnswersTest, ASubmissionRefusedRingsFullIsNeverLoggedAndNeverRuns) {
  std::atomic<bool> release{false};
  std::set<std::string> accepted;
  int refused = 0;
  {
    Engine engine(config());
    const test::SetOnExit release_on_exit{release};
    engine.register_task("block", [&](TaskContext&) {
      while (!release.load()) std::this_thread::sleep_for(1ms);
    });
    engine.start();
    for (int i = 0; i < 40; ++i) {
      const std::string payload = "t" + std::to_string(i);
      const SubmitResult r = engine.submit("block", payload);
      if (r.accepted()) {
        ASSERT_TRUE(engine.wait_durable(r));
        accepted.insert(payload);
      } else {
        ASSERT_EQ(r.status, SubmitStatus::rejected_full) << r.reason;
        ++refused;
      }
    }
    ASSERT_GT(refused, 0) << "the rings never filled: the test proves nothing";
    release.store(true);
    engine.drain();
  }
  // Every accepted task ran and its completion was logged: nothing is left.
  EXPECT_TRUE(run_after_restart({"block"}).empty()) << refused << " refused tasks came back after the restart";
}

TEST_F(DurableAnswersTest, ACancelledDelayedTaskNeverRunsAfterARestart) {
  std::vector<TaskId> cancelled;
  {
    Engine engine(config());
    engine.register_task("later", [](TaskContext&) {});
    engine.start();
    for (int i = 0; i < 5; ++i) {
      const SubmitResult r = engine.submit("later", "c" + std::to_string(i), TaskOptions{.delay = 1h});
      ASSERT_TRUE(r.accepted()) << r.reason;
      ASSERT_TRUE(engine.wait_durable(r));
      ASSERT_TRUE(engine.cancel(r.id));
    }
    const SubmitResult kept = engine.submit("later", "kept", TaskOptions{.delay = 1h});
    ASSERT_TRUE(engine.wait_durable(kept));
    engine.shutdown();
  }
  // The kept one is still due in an hour: it comes back, not yet run.
  Engine again(config());
  std::atomic<int> ran{0};
  again.register_task("later", [&](TaskContext&) { ran.fetch_add(1); });
  again.start();
  EXPECT_EQ(again.recovery_report().tasks_requeued, 1u) << "only the task that was not cancelled";
  again.shutdown();
  EXPECT_EQ(ran.load(), 0);
}

TEST_F(DurableAnswersTest, ACancelIsOnDiskBeforeItAnswersEvenWhenTheProcessDiesAtOnce) {
  GTEST_FLAG_SET(death_test_style, "fast");  // no engine thread exists yet
  auto child = [&] {
    std::atomic<bool> release{false};
    Engine engine(config());
    engine.register_task("block", [&](TaskContext&) {
      while (!release.load()) std::this_thread::sleep_for(1ms);
    });
    engine.register_task("queued", [](TaskContext&) {});
    engine.start();
    if (!engine.wait_durable(engine.submit("block", "b"))) std::_Exit(2);
    const SubmitResult r = engine.submit("queued", "q");  // behind the blocked one
    if (!engine.wait_durable(r)) std::_Exit(3);
    if (!engine.cancel(r.id)) std::_Exit(4);
    std::_Exit(0);  // no clean close: only what cancel() waited for is on disk
  };
  EXPECT_EXIT(child(), ::testing::ExitedWithCode(0), "");
  const auto ran = run_after_restart({"block", "queued"});
  EXPECT_EQ(ran.count("q"), 0u) << "the cancelled task ran after the restart";
  EXPECT_EQ(ran.count("b"), 1u) << "the blocked task was acknowledged and never finished: it runs again";
}

TEST_F(DurableAnswersTest, PurgedDeadLettersStayPurgedAfterARestart) {
  {
    Engine engine(config());
    TaskTypeOptions once;
    once.retry.max_attempts = 1;
    engine.register_task("fails", [](TaskContext&) { return Outcome::fail("no"); }, once);
    engine.start();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(engine.wait_durable(engine.submit("fails", "f")));
    engine.drain();
    ASSERT_EQ(engine.dead_letter_count(), 3u);
    EXPECT_EQ(engine.purge_dead_letters(), 3u);
  }
  Engine again(config());
  again.register_task("fails", [](TaskContext&) { return Outcome::fail("no"); });
  again.start();
  EXPECT_EQ(again.dead_letter_count(), 0u) << "purged letters came back";
  EXPECT_EQ(again.recovery_report().dead_letters_restored, 0u);
}

TEST_F(DurableAnswersTest, ADurableSubmissionBeforeStartIsRefusedWithTheReason) {
  Engine engine(config());
  engine.register_task("job", [](TaskContext&) {});
  for (const Durability d : {Durability::engine_default, Durability::durable}) {
    const SubmitResult r = engine.submit("job", "early", TaskOptions{.idempotency_key = "k", .durability = d});
    EXPECT_EQ(r.status, SubmitStatus::invalid);
    EXPECT_NE(r.reason.find("before start()"), std::string::npos) << r.reason;
    EXPECT_EQ(r.reason.find("needs EngineConfig::durability.wal_dir"), std::string::npos) << r.reason;
  }
  // Memory tasks are still fine before start(), and run after it; with a
  // key, not: the log's keys are not recovered yet.
  EXPECT_TRUE(engine.submit("job", "m", TaskOptions{.durability = Durability::memory}).accepted());
  const SubmitResult keyed =
      engine.submit("job", "m", TaskOptions{.idempotency_key = "k", .durability = Durability::memory});
  EXPECT_EQ(keyed.status, SubmitStatus::invalid);
  EXPECT_NE(keyed.reason.find("idempotency key before start()"), std::string::npos) << keyed.reason;
  engine.start();
  // The key was not taken by the refused submissions.
  const SubmitResult r = engine.submit("job", "late", TaskOptions{.idempotency_key = "k"});
  ASSERT_TRUE(r.accepted()) << r.reason;
  EXPECT_TRUE(engine.wait_durable(r));
}

TEST_F(DurableAnswersTest, WaitDurableAnswersFalseAtOnceForATicketThisEngineNeverIssued) {
  SubmitResult earlier;
  {
    Engine engine(config());
    engine.register_task("job", [](TaskContext&) {});
    engine.start();
    earlier = engine.submit("job", "x");
    ASSERT_TRUE(engine.wait_durable(earlier));
  }
  Engine engine(config());
  engine.register_task("job", [](TaskContext&) {});
  engine.start();
  const SubmitResult own = engine.submit("job", "y");
  ASSERT_TRUE(engine.wait_durable(own));
  EXPECT_FALSE(returns_promptly([&] { return engine.wait_durable(earlier); })) << "an earlier engine's ticket";
  EXPECT_FALSE(engine.is_durable(earlier));
  SubmitResult made_up = own;
  made_up.durable_ticket = own.durable_ticket + 8 * 1000;  // same stream, far ahead
  EXPECT_FALSE(returns_promptly([&] { return engine.wait_durable(made_up); })) << "a ticket never issued";
  EXPECT_FALSE(engine.is_durable(made_up));
  EXPECT_TRUE(engine.wait_durable(own));
}

TEST_F(DurableAnswersTest, AnOutOfRangeDurabilityIsRefused) {
  Engine engine(config());
  engine.register_task("job", [](TaskContext&) {});
  engine.start();
  const SubmitResult r = engine.submit("job", "x", TaskOptions{.durability = static_cast<Durability>(7)});
  EXPECT_EQ(r.status, SubmitStatus::invalid);
  EXPECT_NE(r.reason.find("TaskOptions::durability"), std::string::npos) << r.reason;
}

TEST_F(DurableAnswersTest, TheHandlerSeesTheIdempotencyKeyAlsoAfterARestart) {
  GTEST_FLAG_SET(death_test_style, "fast");
  auto child = [&] {
    Engine engine(config());
    engine.register_task("charge", [](TaskContext&) {
      for (;;) std::this_thread::sleep_for(1h);  // dies mid-run
    });
    engine.start();
    if (!engine.wait_durable(engine.submit("charge", "42 EUR", TaskOptions{.idempotency_key = "order-7"}))) {
      std::_Exit(2);
    }
    std::_Exit(0);
  };
  EXPECT_EXIT(child(), ::testing::ExitedWithCode(0), "");
  std::string seen_key;
  std::string seen_payload;
  Engine again(config());
  again.register_task("charge", [&](TaskContext& t) {
    seen_key = t.idempotency_key();
    seen_payload = t.payload();
  });
  again.start();
  again.drain();
  EXPECT_EQ(seen_key, "order-7");
  EXPECT_EQ(seen_payload, "42 EUR") << "the key must not leak into the payload";
  const SubmitResult repeat = again.submit("charge", "42 EUR", TaskOptions{.idempotency_key = "order-7"});
  EXPECT_EQ(repeat.status, SubmitStatus::duplicate);
}

}  // namespace
}  // namespace brisk

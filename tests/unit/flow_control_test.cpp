// Flow control: credits (try, block, async), priority lane shares,
// per-type concurrency limits, and their bad-input errors.
#include "brisk/brisk.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "support/eventually.hpp"

namespace brisk {
namespace {

using namespace std::chrono_literals;

EngineConfig config_with_credits(std::int64_t credits, unsigned workers = 2) {
  EngineConfig c;
  c.workers = workers;
  c.pin_workers = false;
  c.credits = credits;
  c.credit_chunk = std::min<std::int64_t>(credits, 8);
  return c;
}

using test::eventually;

TEST(Credits, OverloadStaysBoundedAndCountsAddUp) {
  constexpr std::int64_t kCredits = 64;
  constexpr int kProducers = 4;
  Engine engine(config_with_credits(kCredits));
  engine.start();
  std::atomic<long> in_flight{0}, max_in_flight{0}, ran{0};
  std::atomic<long> offered{0}, accepted{0}, refused{0};
  const auto until = std::chrono::steady_clock::now() + 1500ms;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&] {
      Producer producer = engine.make_producer();
      while (std::chrono::steady_clock::now() < until) {
        offered.fetch_add(1);
        // Counted before posting, so the bound below is conservative.
        const long now = in_flight.fetch_add(1) + 1;
        long seen = max_in_flight.load();
        while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
        }
        const SubmitStatus s = producer.post([&] {
          const auto spin_until = std::chrono::steady_clock::now() + 5us;
          while (std::chrono::steady_clock::now() < spin_until) {
          }
          ran.fetch_add(1);
          in_flight.fetch_sub(1);
        });
        if (s == SubmitStatus::accepted) {
          accepted.fetch_add(1);
        } else {
          ASSERT_EQ(s, SubmitStatus::rejected_backpressure);
          in_flight.fetch_sub(1);
          refused.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : producers) t.join();
  engine.drain();
  EXPECT_GT(refused.load(), accepted.load()) << "the load was not an overload";
  EXPECT_EQ(ran.load(), accepted.load()) << "every accepted task runs exactly once";
  EXPECT_EQ(refused.load(), offered.load() - accepted.load());
  EXPECT_EQ(static_cast<long>(engine.stats().rejected_backpressure), refused.load());
  EXPECT_LE(max_in_flight.load(), kCredits + kProducers) << "accepted-but-unfinished exceeded credits";
  EXPECT_TRUE(eventually([&] { return engine.stats().credits_outstanding == 0; }))
      << "credits leaked: " << engine.stats().credits_outstanding;
}

TEST(Credits, TryReturnsBackpressureWithRetryHint) {
  Engine engine(config_with_credits(4, 1));
  Producer producer = engine.make_producer();  // engine not started: nothing completes
  for (int i = 0; i < 4; ++i) EXPECT_EQ(producer.post([] {}), SubmitStatus::accepted);
  EXPECT_EQ(producer.post([] {}), SubmitStatus::rejected_backpressure);
  EXPECT_GT(producer.retry_after().count(), 0);
  EXPECT_EQ(engine.stats().credits_outstanding, 4);
  engine.start();
  engine.drain();
  EXPECT_TRUE(eventually([&] { return producer.post([] {}) == SubmitStatus::accepted; }));
}

TEST(Credits, BlockingPostWaitsForACreditOrTimesOut) {
  Engine engine(config_with_credits(2, 1));
  Producer producer = engine.make_producer();
  std::atomic<bool> release{false};
  auto blocker = [&release] {
    while (!release.load()) std::this_thread::sleep_for(50us);
  };
  engine.start();
  ASSERT_EQ(producer.post(blocker), SubmitStatus::accepted);
  ASSERT_EQ(producer.post(blocker), SubmitStatus::accepted);
  EXPECT_EQ(producer.post_for([] {}, 20ms), SubmitStatus::rejected_backpressure) << "must time out";
  std::thread releaser([&] {
    std::this_thread::sleep_for(20ms);
    release = true;
  });
  EXPECT_EQ(producer.post_for([] {}, 30s), SubmitStatus::accepted) << "must get the returned credit";
  releaser.join();
  engine.drain();
  EXPECT_GT(engine.stats().producer_blocked_ns, 0u);
}

TEST(Credits, AsyncRequestFiresExactlyWhenCreditsReturn) {
  Engine engine(config_with_credits(4, 2));
  Producer producer = engine.make_producer();
  std::atomic<bool> release[4] = {false, false, false, false};
  std::atomic<int> finished{0};
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(producer.post([&, i] {
      while (!release[i].load()) std::this_thread::sleep_for(50us);
      finished.fetch_add(1);
    }), SubmitStatus::accepted);
  }
  engine.start();
  std::atomic<int> fired{0};
  std::atomic<int> finished_when_fired{-1};
  producer.request(2, [&] {
    finished_when_fired = finished.load();
    fired.fetch_add(1);
  });
  EXPECT_EQ(fired.load(), 0);
  release[0] = true;
  ASSERT_TRUE(eventually([&] { return finished.load() == 1; }));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(fired.load(), 0) << "one credit back is not two";
  release[1] = true;
  ASSERT_TRUE(eventually([&] { return fired.load() == 1; }));
  EXPECT_EQ(finished_when_fired.load(), 2);
  EXPECT_EQ(producer.credits(), 2);
  release[2] = release[3] = true;
  engine.drain();
  EXPECT_EQ(fired.load(), 1) << "fires once";
}

TEST(Credits, BadInputIsRefusedClearly) {
  EngineConfig c = config_with_credits(-1);
  EXPECT_THROW(Engine{c}, ConfigError);
  c = config_with_credits(16);
  c.credit_chunk = -1;
  EXPECT_THROW(Engine{c}, ConfigError);
  c = config_with_credits(16);
  Engine engine(c);
  Producer producer = engine.make_producer();
  EXPECT_THROW(producer.request(0, [] {}), std::invalid_argument);
  EXPECT_THROW(producer.request(17, [] {}), std::invalid_argument);
}

TEST(PriorityLanes, SharesFollowWeightsUnderSaturation) {
  EngineConfig c;
  c.workers = 1;
  c.pin_workers = false;
  c.ring_capacity = 8192;
  Engine engine(c);
  std::vector<int> order;
  order.reserve(3 * 6000);
  // Saturate all three lanes before the single worker starts.
  for (int i = 0; i < 6000; ++i) {
    for (Priority p : {priority::high, priority::normal, priority::low}) {
      ASSERT_EQ(engine.post([&order, p] { order.push_back(p); }, p), SubmitStatus::accepted);
    }
  }
  engine.start();
  engine.drain();
  // While every lane still had work: the first 13 * 400 picks.
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 13 * 400; ++i) ++counts[order[static_cast<std::size_t>(i)]];
  const double total = 13 * 400;
  EXPECT_NEAR(counts[0] / total, 8.0 / 13, 0.1 * 8.0 / 13);
  EXPECT_NEAR(counts[1] / total, 4.0 / 13, 0.1 * 4.0 / 13);
  EXPECT_NEAR(counts[2] / total, 1.0 / 13, 0.1 * 1.0 / 13);
  EXPECT_EQ(order.size(), 18000u) << "low must not starve: everything ran";
}

TEST(ConcurrencyLimit, CapsOneTypeWithoutBlockingOthers) {
  EngineConfig c;
  c.workers = 3;
  c.pin_workers = false;
  Engine engine(c);
  std::atomic<int> running{0}, max_running{0}, slow_done{0};
  std::atomic<bool> fast_ran{false};
  std::atomic<bool> hold{true};
  TaskTypeOptions limited;
  limited.max_concurrency = 1;
  engine.register_task("slow", [&](TaskContext&) {
    const int now = running.fetch_add(1) + 1;
    int seen = max_running.load();
    while (now > seen && !max_running.compare_exchange_weak(seen, now)) {
    }
    while (hold.load()) std::this_thread::sleep_for(100us);
    running.fetch_sub(1);
    slow_done.fetch_add(1);
  }, limited);
  engine.register_task("fast", [&](TaskContext&) { fast_ran = true; });
  engine.start();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(engine.submit("slow", ""));
  // With the slow type saturated and parked, other types still run.
  ASSERT_TRUE(engine.submit("fast", ""));
  EXPECT_TRUE(eventually([&] { return fast_ran.load(); })) << "a limited type blocked another type";
  EXPECT_EQ(slow_done.load(), 0);
  hold = false;
  engine.drain();
  EXPECT_EQ(slow_done.load(), 20);
  EXPECT_EQ(max_running.load(), 1);
}

TEST(ConcurrencyLimit, CancelledWhileParkedNeverRuns) {
  EngineConfig c;
  c.workers = 2;
  c.pin_workers = false;
  Engine engine(c);
  std::atomic<bool> hold{true};
  std::atomic<int> started{0};
  std::atomic<int> ran{0};
  TaskTypeOptions limited;
  limited.max_concurrency = 1;
  engine.register_task("one", [&](TaskContext&) {
    started.fetch_add(1);
    while (hold.load()) std::this_thread::sleep_for(100us);
    ran.fetch_add(1);
  }, limited);
  engine.start();
  ASSERT_TRUE(engine.submit("one", ""));
  // The first holds the type's one slot before the second arrives (on a slow
  // run the second could otherwise reach the gate first and be the one running).
  ASSERT_TRUE(eventually([&] { return started.load() == 1; }));
  const SubmitResult parked = engine.submit("one", "");
  ASSERT_TRUE(parked);
  std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(engine.cancel(parked.id));
  hold = false;
  engine.drain();
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace brisk

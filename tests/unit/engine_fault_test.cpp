// Faults a running engine meets (docs/faults.md has the expected behaviour of
// each): a handler that throws on every call, a flood of one task type, the
// clock jumping far ahead, and a slow disk under the write-ahead log.
#include "brisk/brisk.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <thread>
#include <vector>

#include "support/eventually.hpp"
#include "wal/fault_injection_env.hpp"
#include "wal/log_writer.hpp"
#include "wal_test_support.hpp"

namespace brisk {
namespace {

using namespace std::chrono_literals;

EngineConfig small_config() {
  EngineConfig c;
  c.workers = 2;
  c.pin_workers = false;
  return c;
}

TEST(EngineFault, HandlerThatAlwaysThrowsDeadLettersEachTaskAfterItsAttempts) {
  ManualClock clock;
  EngineConfig config = small_config();
  config.clock = &clock;
  Engine engine(config);
  TaskTypeOptions broken;
  broken.retry.max_attempts = 3;
  broken.retry.base = 1ms;
  broken.retry.cap = 1ms;
  std::atomic<int> calls{0}, healthy{0};
  engine.register_task("broken", [&](TaskContext&) -> Outcome {
    calls.fetch_add(1);
    throw std::runtime_error("always fails");
  }, broken);
  engine.register_task("healthy", [&](TaskContext&) { healthy.fetch_add(1); });
  engine.start();
  constexpr int kTasks = 50;
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_TRUE(engine.submit("broken", std::to_string(i)));
    ASSERT_TRUE(engine.submit("healthy", ""));
  }
  for (int round = 0; round < 10 && engine.dead_letter_count() < kTasks; ++round) {
    engine.drain();
    clock.advance(2ms);  // past every backoff
  }
  engine.drain();
  EXPECT_EQ(calls.load(), 3 * kTasks) << "each task gets exactly max_attempts attempts";
  EXPECT_EQ(healthy.load(), kTasks) << "the other type is not held back";
  ASSERT_EQ(engine.dead_letter_count(), static_cast<std::size_t>(kTasks));
  for (const DeadLetter& letter : engine.dead_letters()) {
    EXPECT_EQ(letter.attempts, 3u);
    ASSERT_EQ(letter.failures.size(), 3u);
    EXPECT_EQ(letter.failures.back().message, "always fails");
  }
  // The workers survived every throw: new work still runs.
  std::atomic<bool> ran{false};
  ASSERT_EQ(engine.post([&] { ran = true; }), SubmitStatus::accepted);
  engine.drain();
  EXPECT_TRUE(ran.load());
}

TEST(EngineFault, FloodOfOneTypeDoesNotStarveAnother) {
  Engine engine(small_config());
  TaskTypeOptions capped;
  capped.max_concurrency = 1;  // the flood may occupy one worker at most
  std::latch release(1);
  std::atomic<int> flood_ran{0}, other_ran{0};
  engine.register_task("flood", [&](TaskContext&) {
    release.wait();
    flood_ran.fetch_add(1);
  }, capped);
  engine.register_task("other", [&](TaskContext&) { other_ran.fetch_add(1); });
  engine.start();
  constexpr int kFlood = 2000, kOther = 200;
  for (int i = 0; i < kFlood; ++i) ASSERT_TRUE(engine.submit("flood", ""));
  for (int i = 0; i < kOther; ++i) ASSERT_TRUE(engine.submit("other", ""));
  // Every "other" task finishes while the flood's one running handler is
  // still blocked: the rest of the flood waits without holding a worker.
  EXPECT_TRUE(test::eventually([&] { return other_ran.load() == kOther; }));
  EXPECT_EQ(flood_ran.load(), 0);
  release.count_down();
  engine.drain();
  EXPECT_EQ(flood_ran.load(), kFlood);
}

// A long line of tasks parked on a concurrency limit meets full rings when
// the slot frees: each must wait for room, not run nested inside the
// previous one's handler (100k deep would overflow the worker's stack).
TEST(EngineFault, LongConcurrencyLineMeetsFullRingsWithoutNesting) {
  EngineConfig config = small_config();
  config.ring_capacity = 64;
  Engine engine(config);
  TaskTypeOptions one_at_a_time;
  one_at_a_time.max_concurrency = 1;
  std::latch release_first(1), release_b(1);
  std::atomic<bool> first_running{false}, b_blocked{false};
  std::atomic<int> ran{0}, closures{0};
  engine.register_task("line", [&](TaskContext& t) {
    if (t.payload() == "first") {
      first_running = true;
      release_first.wait();
    }
    ran.fetch_add(1);
  }, one_at_a_time);
  engine.start();
  ASSERT_TRUE(engine.submit("line", "first"));
  ASSERT_TRUE(test::eventually([&] { return first_running.load(); }));
  constexpr int kParked = 100'000;
  for (int i = 0; i < kParked; ++i) {
    while (!engine.submit("line", "")) std::this_thread::yield();  // rings full: the other worker parks them
  }
  ASSERT_TRUE(test::eventually([&] { return engine.stats().queued == 0; }));
  // Block the other worker, then fill every ring.
  ASSERT_EQ(engine.post([&] {
    b_blocked = true;
    release_b.wait();
  }), SubmitStatus::accepted);
  ASSERT_TRUE(test::eventually([&] { return b_blocked.load(); }));
  int posted = 0;
  while (engine.post([&] { closures.fetch_add(1); }) == SubmitStatus::accepted) ++posted;
  release_first.count_down();  // the slot frees with every ring full
  // The line gets through on the one free worker while the other is still
  // blocked (nested calls would have overflowed that worker's stack).
  EXPECT_TRUE(test::eventually([&] { return ran.load() == kParked + 1; }));
  release_b.count_down();
  engine.drain();
  EXPECT_EQ(ran.load(), kParked + 1);
  EXPECT_EQ(closures.load(), posted);
}

TEST(EngineFault, ClockJumpFarAheadRunsEverythingDueOnceInDueOrderPerWorker) {
  ManualClock clock;
  EngineConfig config = small_config();
  config.workers = 1;  // one worker: start order is observable
  config.clock = &clock;
  Engine engine(config);
  std::vector<int> order;
  engine.register_task("due", [&](TaskContext& t) { order.push_back(std::stoi(std::string(t.payload()))); });
  engine.start();
  // Due in a second, an hour, a day, a week: spread over every wheel level.
  const std::vector<std::chrono::nanoseconds> delays = {1s, 1h, 24h, 168h};
  for (std::size_t i = 0; i < delays.size(); ++i) {
    TaskOptions o;
    o.delay = delays[i];
    ASSERT_TRUE(engine.submit("due", std::to_string(i), o));
  }
  clock.advance(30min);  // only the first is due
  engine.drain();
  EXPECT_EQ(order, std::vector<int>({0}));
  clock.advance(24h * 30);  // one jump past everything
  engine.drain();
  EXPECT_EQ(order, std::vector<int>({0, 1, 2, 3}));
  EXPECT_EQ(engine.stats().pending_timers, 0u);
}

TEST(EngineFault, SlowDiskGrowsGroupCommitBatchesAndLosesNoAck) {
  namespace wal = detail::wal;
  test::TempDir dir;
  wal::FaultInjectionEnv env(wal::WalEnv::posix());
  env.set_delays(0us, 20ms);  // every fdatasync takes 20 ms more
  wal::WalOptions o;
  o.dir = dir.path();
  o.env = &env;
  o.fsync = wal::FsyncPolicy::always;
  std::unique_ptr<wal::Wal> log;
  wal::RecoveredState state;
  ASSERT_TRUE(wal::Wal::open(o, &log, &state));
  constexpr int kThreads = 4, kPerThread = 200;
  std::vector<std::thread> threads;
  std::atomic<int> acked{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<wal::WalTicket> tickets;
      for (int i = 0; i < kPerThread; ++i) {
        tickets.push_back(log->append(wal::as_ref(test::sample_task(static_cast<TaskId>(t * kPerThread + i + 1)))));
      }
      for (const wal::WalTicket& ticket : tickets) {
        if (log->wait(ticket)) acked.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(acked.load(), kThreads * kPerThread);
  // 800 records through 20 ms syncs: batching, not a sync per record.
  EXPECT_LT(log->stats().syncs, static_cast<std::uint64_t>(kThreads * kPerThread) / 4);
  ASSERT_TRUE(log->close());
  wal::RecoveredState recovered;
  ASSERT_TRUE(wal::recover(wal::WalEnv::posix(), dir.path(), {}, &recovered));
  EXPECT_EQ(recovered.incomplete.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace brisk

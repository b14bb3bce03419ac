// A worker's task overflow (EngineConfig::task_overflow_per_worker): what a
// task posts or submits once its lane is full everywhere is accepted up to
// the bound, runs exactly once, and is waited for by drain() and shutdown();
// beyond the bound, and from outside threads, the answer stays rejected_full.
#include "brisk/brisk.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace brisk {
namespace {

// One worker: while it runs the fanning-out task nothing else takes from
// the rings, so what fills the ring and what overflows is exact.
EngineConfig one_worker(std::size_t ring, std::size_t overflow) {
  EngineConfig c;
  c.workers = 1;
  c.pin_workers = false;
  c.ring_capacity = ring;
  c.task_overflow_per_worker = overflow;
  return c;
}

struct FanOut {
  std::vector<std::atomic<int>> runs;
  std::atomic<int> accepted{0};
  std::atomic<int> refused_full{0};
  explicit FanOut(std::size_t n) : runs(n) {}
  void post_all(Engine& engine) {
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const SubmitStatus s = engine.post([this, i] { runs[i].fetch_add(1); });
      if (s == SubmitStatus::accepted) ++accepted;
      if (s == SubmitStatus::rejected_full) ++refused_full;
    }
  }
};

TEST(TaskOverflow, ATaskPostingTenRingsOfWorkHasEveryPostAcceptedAndRunOnce) {
  Engine engine(one_worker(64, 1024));
  engine.start();
  FanOut fan(640);  // 10x the ring
  engine.post([&] { fan.post_all(engine); });
  engine.drain();
  EXPECT_EQ(fan.accepted.load(), 640);
  EXPECT_EQ(fan.refused_full.load(), 0);
  for (std::size_t i = 0; i < fan.runs.size(); ++i) ASSERT_EQ(fan.runs[i].load(), 1) << i;
  const EngineStats s = engine.stats();
  EXPECT_EQ(s.overflowed, 640u - 64u);  // the ring took 64
  EXPECT_EQ(s.overflow_depth, 0u);
  EXPECT_EQ(s.overflow_refused, 0u);
  EXPECT_EQ(s.rejected_full, 0u);
  EXPECT_EQ(s.executed, 641u);
}

TEST(TaskOverflow, BeyondTheBoundATaskIsToldRejectedFull) {
  Engine engine(one_worker(64, 128));
  engine.start();
  FanOut fan(300);
  engine.post([&] { fan.post_all(engine); });
  engine.drain();
  EXPECT_EQ(fan.accepted.load(), 64 + 128);
  EXPECT_EQ(fan.refused_full.load(), 300 - 64 - 128);
  int ran = 0;
  for (auto& r : fan.runs) {
    ASSERT_LE(r.load(), 1);
    ran += r.load();
  }
  EXPECT_EQ(ran, 64 + 128);
  const EngineStats s = engine.stats();
  EXPECT_EQ(s.overflowed, 128u);
  EXPECT_EQ(s.overflow_refused, 300u - 64 - 128);
  EXPECT_EQ(s.rejected_full, 300u - 64 - 128);
  // The same counts where an operator reads them: /metrics and the snapshot.
  const std::string metrics = engine.prometheus_text();
  EXPECT_NE(metrics.find("brisk_task_overflow_total 128\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("brisk_task_overflow_refused_total 108\n"), std::string::npos);
  EXPECT_NE(metrics.find("brisk_task_overflow_depth 0\n"), std::string::npos);
  const std::string snapshot = engine.snapshot_json();
  EXPECT_NE(snapshot.find("\"overflowed\":128"), std::string::npos) << snapshot.substr(0, 600);
  EXPECT_NE(snapshot.find("\"overflow_refused\":108"), std::string::npos);
}

TEST(TaskOverflow, NamedSubmitsFromATaskOverflowTooAndRunOnce) {
  Engine engine(one_worker(64, 512));
  std::vector<std::atomic<int>> runs(400);
  const TaskType leaf = engine.register_task("leaf", [&](TaskContext& t) {
    runs[std::stoul(std::string(t.payload()))].fetch_add(1);
  });
  engine.start();
  std::atomic<int> accepted{0};
  engine.post([&] {
    for (std::size_t i = 0; i < runs.size(); ++i) accepted += engine.submit(leaf, std::to_string(i)).accepted();
  });
  engine.drain();
  EXPECT_EQ(accepted.load(), 400);
  for (std::size_t i = 0; i < runs.size(); ++i) ASSERT_EQ(runs[i].load(), 1) << i;
  EXPECT_EQ(engine.stats().overflowed, 400u - 64u);
}

TEST(TaskOverflow, OutsideThreadsKeepTheRingsBound) {
  Engine engine(one_worker(64, 1024));
  engine.start();
  std::atomic<bool> release{false};
  std::atomic<bool> blocking{false};
  engine.post([&] {
    blocking = true;
    while (!release) std::this_thread::yield();
  });
  while (!blocking) std::this_thread::yield();
  int accepted = 0;
  for (int i = 0; i < 100; ++i) accepted += engine.post([] {}) == SubmitStatus::accepted;
  const SubmitResult named = engine.submit("nothing-registered", "x");
  release = true;
  engine.drain();
  EXPECT_EQ(accepted, 64);
  EXPECT_EQ(named.status, SubmitStatus::invalid);
  EXPECT_EQ(engine.stats().overflowed, 0u);
  EXPECT_EQ(engine.stats().rejected_full, 36u);
}

TEST(TaskOverflow, DrainAndShutdownWaitForTheOverflow) {
  for (const bool shut : {false, true}) {
    auto engine = std::make_unique<Engine>(one_worker(64, 1024));
    engine->start();
    FanOut fan(800);
    std::atomic<bool> posted{false};
    engine->post([&] {
      fan.post_all(*engine);
      posted = true;
    });
    if (shut) {
      // Once shutdown() begins, new posts are refused (rejected_shutdown),
      // from tasks too: what was accepted before, overflow included, runs.
      while (!posted) std::this_thread::yield();
      engine->shutdown();
    } else {
      engine->drain();
    }
    int ran = 0;
    for (auto& r : fan.runs) ran += r.load();
    EXPECT_EQ(ran, 800) << (shut ? "shutdown" : "drain");
    EXPECT_EQ(engine->stats().overflow_depth, 0u);
  }
}

TEST(TaskOverflow, OffItRefusesAsBefore) {
  Engine engine(one_worker(64, 0));
  engine.start();
  FanOut fan(100);
  engine.post([&] { fan.post_all(engine); });
  engine.drain();
  EXPECT_EQ(fan.accepted.load(), 64);
  EXPECT_EQ(fan.refused_full.load(), 36);
  EXPECT_EQ(engine.stats().overflowed, 0u);
  EXPECT_EQ(engine.stats().overflow_refused, 0u);
}

TEST(TaskOverflow, ABoundThatIsNoPowerOfTwoIsRefusedNamingTheField) {
  EngineConfig c = one_worker(64, 100);
  try {
    Engine engine(c);
    FAIL() << "accepted task_overflow_per_worker = 100";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("task_overflow_per_worker"), std::string::npos) << e.what();
  }
}

// Many workers fanning out at once, with thieves taking from the overflows:
// every accepted post runs exactly once (a stress test for TSan).
TEST(TaskOverflow, StressFanOutWithStealing) {
  EngineConfig c;
  c.workers = 4;
  c.pin_workers = false;
  c.ring_capacity = 16;
  c.task_overflow_per_worker = 256;
  Engine engine(c);
  engine.start();
  constexpr int kRoots = 40, kLeaves = 100;
  std::vector<std::atomic<int>> runs(kRoots * kLeaves);
  std::atomic<int> accepted{0};
  for (int r = 0; r < kRoots; ++r) {
    while (engine.post([&, r] {
      for (int k = 0; k < kLeaves; ++k) {
        accepted += engine.post([&runs, i = r * kLeaves + k] { runs[i].fetch_add(1); }) == SubmitStatus::accepted;
      }
    }) != SubmitStatus::accepted) {
      std::this_thread::yield();
    }
  }
  engine.drain();
  int ran = 0;
  for (auto& n : runs) {
    ASSERT_LE(n.load(), 1);
    ran += n.load();
  }
  EXPECT_EQ(ran, accepted.load());
  const EngineStats s = engine.stats();
  EXPECT_EQ(static_cast<std::uint64_t>(kRoots * kLeaves - accepted.load()), s.overflow_refused);
  EXPECT_EQ(s.overflow_depth, 0u);
}

}  // namespace
}  // namespace brisk

// Batches and chains (issue 17): callbacks once, with the counts; nested
// fan-out; chains passing results; failures stopping a chain; bad input.
#include "brisk/brisk.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cctype>
#include <map>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "support/eventually.hpp"

namespace brisk {
namespace {

using namespace std::chrono_literals;
using test::eventually;

EngineConfig small() {
  EngineConfig c;
  c.workers = 2;
  c.pin_workers = false;
  return c;
}

struct Calls {
  std::mutex mutex;
  std::vector<std::string> payloads;
  void add(std::string_view p) {
    std::lock_guard lock(mutex);
    payloads.emplace_back(p);
  }
  std::vector<std::string> get() {
    std::lock_guard lock(mutex);
    return payloads;
  }
};

TEST(Batch, CallbacksRunOnceWhenEveryTaskFinishedWithTheCounts) {
  Engine engine(small());
  Calls success, complete;
  TaskTypeOptions once;
  once.retry.max_attempts = 1;
  engine.register_task("work", [](TaskContext& t) {
    return t.payload() == "bad" ? Outcome::fail("no") : Outcome::success();
  }, once);
  engine.register_task("on_success", [&](TaskContext& t) { success.add(t.payload()); });
  engine.register_task("on_complete", [&](TaskContext& t) { complete.add(t.payload()); });
  engine.start();

  const BatchId ok = engine.open_batch({.on_success = {"on_success", "all-good"}, .on_complete = {"on_complete", "a"}});
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(engine.submit("work", "fine", {.batch = ok}));
  const BatchId mixed = engine.open_batch({.on_success = {"on_success", "never"}, .on_complete = {"on_complete", "b"}});
  ASSERT_TRUE(engine.submit("work", "fine", {.batch = mixed}));
  ASSERT_TRUE(engine.submit("work", "bad", {.batch = mixed}));
  const SubmitResult later = engine.submit("work", "fine", {.delay = 1h, .batch = mixed});
  ASSERT_TRUE(later);
  engine.drain();
  EXPECT_TRUE(complete.get().empty()) << "not sealed yet";
  ASSERT_TRUE(engine.seal_batch(ok));
  ASSERT_TRUE(engine.seal_batch(mixed));
  EXPECT_FALSE(engine.seal_batch(mixed)) << "sealed twice";
  engine.drain();
  ASSERT_EQ(engine.batch(mixed)->pending, 1u) << "the delayed task";
  ASSERT_TRUE(engine.cancel(later.id));
  ASSERT_TRUE(eventually([&] { return complete.get().size() == 2; }));
  engine.drain();
  const auto done = complete.get();
  const auto succeeded = success.get();  // parse() views into it: keep it alive
  ASSERT_EQ(succeeded.size(), 1u);
  const auto s = BatchSummary::parse(succeeded[0]);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->info.id, ok);
  EXPECT_EQ(s->info.succeeded, 100u);
  EXPECT_EQ(s->payload, "all-good");
  for (const std::string& p : done) {
    const auto c = BatchSummary::parse(p);
    ASSERT_TRUE(c) << p;
    if (c->info.id == mixed) {
      EXPECT_EQ(c->info.total, 3u);
      EXPECT_EQ(c->info.succeeded, 1u);
      EXPECT_EQ(c->info.dead_lettered, 1u);
      EXPECT_EQ(c->info.cancelled, 1u);
      EXPECT_EQ(c->payload, "b");
    } else {
      EXPECT_EQ(c->info.id, ok);
      EXPECT_EQ(c->payload, "a");
    }
  }
  EXPECT_FALSE(engine.batch(ok)) << "complete batches are forgotten";
}

TEST(Batch, TasksMayAddToTheirOwnBatchAfterItWasSealed) {
  Engine engine(small());
  Calls complete;
  std::atomic<int> leaves{0};
  engine.register_task("leaf", [&](TaskContext&) { leaves.fetch_add(1); });
  engine.register_task("fan_out", [&](TaskContext& t) {
    for (int i = 0; i < 10; ++i) {
      if (!engine.submit("leaf", "", {.batch = t.batch_id()})) return Outcome::retry("full");
    }
    return Outcome::success();
  });
  engine.register_task("done", [&](TaskContext& t) { complete.add(t.payload()); });
  engine.start();
  const BatchId b = engine.open_batch({.on_complete = {"done", ""}});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(engine.submit("fan_out", "", {.batch = b}));
  ASSERT_TRUE(engine.seal_batch(b));
  ASSERT_TRUE(eventually([&] { return complete.get().size() == 1; }));
  engine.drain();
  EXPECT_EQ(leaves.load(), 50);
  const auto completed = complete.get();  // parse() views into it: keep it alive
  const auto c = BatchSummary::parse(completed[0]);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->info.total, 55u) << "the fan-out tasks and every leaf they added";
  EXPECT_EQ(c->info.succeeded, 55u);
}

TEST(Batch, AnUnknownOrCompleteBatchIsRefused) {
  Engine engine(small());
  engine.register_task("work", [](TaskContext&) {});
  engine.start();
  const SubmitResult r = engine.submit("work", "", {.batch = 12345});
  EXPECT_EQ(r.status, SubmitStatus::invalid);
  EXPECT_NE(r.reason.find("unknown batch"), std::string_view::npos) << r.reason;
  const BatchId b = engine.open_batch();
  ASSERT_TRUE(engine.seal_batch(b));  // empty: complete at once
  EXPECT_EQ(engine.submit("work", "", {.batch = b}).status, SubmitStatus::invalid) << "a complete batch";
}

TEST(Chain, EachStepRunsWithThePreviousResultAndAFailureStopsIt) {
  Engine engine(small());
  Calls last;
  TaskTypeOptions once;
  once.retry.max_attempts = 1;
  engine.register_task("fetch", [](TaskContext& t) { t.set_result("<" + std::string(t.payload()) + ">"); });
  engine.register_task("upper", [](TaskContext& t) {
    std::string s(t.payload());
    for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    t.set_result(s);
  });
  engine.register_task("store", [&](TaskContext& t) { last.add(t.payload()); });
  engine.register_task("broken", [](TaskContext&) { return Outcome::fail("disk on fire"); }, once);
  engine.start();
  ASSERT_TRUE(engine.submit_chain({{"fetch", "cat"}, {"upper", ""}, {"store", ""}}));
  ASSERT_TRUE(eventually([&] { return last.get().size() == 1; }));
  EXPECT_EQ(last.get()[0], "<CAT>");

  ASSERT_TRUE(engine.submit_chain({{"fetch", "dog"}, {"broken", ""}, {"store", ""}}));
  ASSERT_TRUE(eventually([&] { return engine.dead_letter_count() == 1; }));
  engine.drain();
  std::this_thread::sleep_for(20ms);
  engine.drain();
  EXPECT_EQ(last.get().size(), 1u) << "the step after a failure must not run";
  EXPECT_EQ(engine.dead_letters()[0].name, "broken");
  EXPECT_EQ(engine.dead_letters()[0].payload, "<dog>") << "the failed step keeps the result it was given";
  EXPECT_EQ(engine.dead_letters()[0].failures.back().message, "disk on fire (chain stopped; not run: store)")
      << "the letter names the steps that did not run";
}

TEST(Chain, BadChainsAreRefusedWithTheReason) {
  Engine engine(small());
  engine.register_task("a", [](TaskContext&) {});
  engine.start();
  EXPECT_EQ(engine.submit_chain({}).status, SubmitStatus::invalid);
  const SubmitResult unknown = engine.submit_chain({{"a", "x"}, {"nope", ""}});
  EXPECT_EQ(unknown.status, SubmitStatus::invalid);
  EXPECT_NE(unknown.reason.find("unknown task"), std::string_view::npos) << unknown.reason;
  const SubmitResult payload = engine.submit_chain({{"a", "x"}, {"a", "y"}});
  EXPECT_EQ(payload.status, SubmitStatus::invalid);
  EXPECT_NE(payload.reason.find("previous step's result"), std::string_view::npos) << payload.reason;
}

TEST(Chain, AChordIsABatchWhoseCallbackStartsAChain) {
  Engine engine(small());
  Calls reports;
  engine.register_task("part", [](TaskContext&) {});
  engine.register_task("count", [](TaskContext& t) { t.set_result(std::string(t.payload()) + " parts"); });
  engine.register_task("report", [&](TaskContext& t) { reports.add(t.payload()); });
  // The batch's callback starts a chain with the batch's counts.
  engine.register_task("summarise", [&](TaskContext& t) {
    const auto s = BatchSummary::parse(t.payload());
    if (!s) return Outcome::fail("no summary");
    const SubmitResult r = engine.submit_chain({{"count", std::to_string(s->info.succeeded)}, {"report", ""}});
    return r ? Outcome::success() : Outcome::retry(std::string(r.reason));
  });
  engine.start();
  const BatchId b = engine.open_batch({.on_complete = {"summarise", ""}});
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(engine.submit("part", "", {.batch = b}));
  ASSERT_TRUE(engine.seal_batch(b));
  ASSERT_TRUE(eventually([&] { return reports.get().size() == 1; }));
  EXPECT_EQ(reports.get()[0], "7 parts");
}

// Batches open and callbacks submitted, on stats() and /metrics.
// Members end on several workers while submitters seal their batches and
// members add to their own batch (nested fan-out): the seal and the last
// member's end race, and each batch's callback must run exactly once, with
// every member counted.
TEST(Batch, ManyBatchesRacingTheirSealAndLastMemberCompleteExactlyOnce) {
  EngineConfig c = small();
  c.workers = 3;
  Engine engine(c);
  TaskTypeOptions retry_soon;
  retry_soon.retry = {.max_attempts = 1000, .base = 1ms, .cap = 1ms, .jitter = false};
  std::atomic<int> leaves{0};
  engine.register_task("leaf", [&](TaskContext&) { leaves.fetch_add(1); });
  engine.register_task("fan", [&](TaskContext& t) {
    // Rings full: try again later (nothing was added this attempt).
    return engine.submit("leaf", "", {.batch = t.batch_id()}) ? Outcome::success() : Outcome::retry("full");
  }, retry_soon);
  engine.register_task("bad", [](TaskContext&) { return Outcome::fail("no"); });
  std::mutex mutex;
  std::map<BatchId, std::vector<BatchInfo>> completions;  // under mutex
  engine.register_task("done", [&](TaskContext& t) {
    const auto summary = BatchSummary::parse(t.payload());
    ASSERT_TRUE(summary);
    std::lock_guard lock(mutex);
    completions[summary->info.id].push_back(summary->info);
  });
  engine.start();
  constexpr int kSubmitters = 2, kBatches = 150;
  std::vector<std::map<BatchId, int>> members(kSubmitters);  // batch -> members it submitted (fan: 2 with its leaf)
  std::vector<std::thread> submitters;
  for (int s = 0; s < kSubmitters; ++s) {
    submitters.emplace_back([&, s] {
      for (int b = 0; b < kBatches; ++b) {
        const BatchId id = engine.open_batch({.on_complete = {"done", ""}});
        int expected = 0;
        for (int m = 0; m < b % 4; ++m) {
          const char* task = m == 1 ? "fan" : m == 2 ? "bad" : "leaf";
          while (!engine.submit(task, "", {.batch = id})) std::this_thread::yield();
          expected += m == 1 ? 2 : 1;
        }
        if (b % 3 == 0) std::this_thread::yield();  // sometimes let the members finish first
        ASSERT_TRUE(engine.seal_batch(id));
        members[s][id] = expected;
      }
    });
  }
  for (std::thread& t : submitters) t.join();
  const std::size_t batches = kSubmitters * kBatches;
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return completions.size() == batches;
  }, 30s));
  engine.drain();
  std::lock_guard lock(mutex);
  for (const auto& submitted : members) {
    for (const auto& [id, expected] : submitted) {
      const auto it = completions.find(id);
      ASSERT_NE(it, completions.end()) << id;
      ASSERT_EQ(it->second.size(), 1u) << "batch " << id << ": its callback ran more than once";
      const BatchInfo& info = it->second[0];
      EXPECT_EQ(info.total, static_cast<std::uint64_t>(expected)) << id;
      EXPECT_EQ(info.succeeded + info.dead_lettered, info.total) << id;
    }
  }
  EXPECT_EQ(engine.stats().batches_open, 0u);
}

TEST(Batch, OpenBatchesAndCallbacksAreCounted) {
  Engine engine(small());
  engine.register_task("work", [](TaskContext&) {});
  engine.register_task("done", [](TaskContext&) {});
  engine.start();
  const BatchId a = engine.open_batch({.on_success = {"done", ""}, .on_complete = {"done", ""}});
  const BatchId b = engine.open_batch({.on_complete = {"done", ""}});
  ASSERT_TRUE(engine.submit("work", "", {.batch = a}));
  ASSERT_TRUE(engine.submit("work", "", {.batch = b}));
  EXPECT_EQ(engine.stats().batches_open, 2u);
  ASSERT_TRUE(engine.seal_batch(a));
  ASSERT_TRUE(eventually([&] { return engine.stats().batch_callbacks_submitted == 2; }));
  EXPECT_EQ(engine.stats().batches_open, 1u);
  const std::string text = engine.prometheus_text();
  EXPECT_NE(text.find("\nbrisk_batches_open 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nbrisk_batch_callbacks_submitted_total 2\n"), std::string::npos);
}

}  // namespace
}  // namespace brisk

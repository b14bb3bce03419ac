// submit(TaskType, std::string_view): the payload is copied into the task
// record's own buffer at the call, so the caller's bytes may change at once;
// with an idempotency key, and through a restart when durable: the same
// answers and the same payload as submit() of a std::string.
#include "brisk/brisk.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace brisk {
namespace {

namespace fs = std::filesystem;

struct Seen {
  std::mutex m;
  std::multiset<std::string> payloads;
  TaskType register_on(Engine& e) {
    return e.register_task("record", [this](TaskContext& t) {
      std::lock_guard lock(m);
      payloads.insert(std::string(t.payload()));
    });
  }
};

EngineConfig one_worker() {
  EngineConfig c;
  c.workers = 1;
  c.pin_workers = false;
  return c;
}

// A started one-worker engine with the "record" type, kept in memory.
struct InMemory {
  Engine engine{one_worker()};
  Seen seen;
  TaskType type = seen.register_on(engine);
  TaskOptions memory{.durability = Durability::memory};
  InMemory() { engine.start(); }
};

TEST(SubmitView, CopiesTheCallersBytesAtTheCall) {
  InMemory e;
  auto& [engine, seen, type, memory] = e;
  std::string buffer;
  std::multiset<std::string> sent;
  for (std::size_t size : {0, 1, 15, 16, 64, 1024, 1025, 16384}) {
    buffer.assign(size, static_cast<char>('a' + size % 26));
    ASSERT_TRUE(engine.submit(type, std::string_view(buffer), memory));
    sent.insert(buffer);
    buffer.assign(size, '!');  // the caller reuses its buffer at once
  }
  ASSERT_TRUE(engine.submit(type, "a literal", memory));  // const char*: the view overload
  sent.insert("a literal");
  engine.drain();
  EXPECT_EQ(seen.payloads, sent);
}

TEST(SubmitView, NullPayloadIsInvalidAndNothingRuns) {
  InMemory e;
  auto& [engine, seen, type, memory] = e;
  const char* none = nullptr;
  const SubmitResult r = engine.submit(type, none, memory);
  EXPECT_EQ(r.status, SubmitStatus::invalid);
  EXPECT_EQ(r.reason, "payload is a null pointer");
  engine.drain();
  EXPECT_TRUE(seen.payloads.empty());
}

TEST(SubmitView, IdempotencyKeyFollowsTheCopiedPayload) {
  InMemory e;
  auto& [engine, seen, type, keyed] = e;
  keyed.idempotency_key = "order-42";
  const SubmitResult first = engine.submit(type, std::string_view("charge"), keyed);
  ASSERT_TRUE(first);
  const SubmitResult again = engine.submit(type, std::string_view("charge"), keyed);
  EXPECT_EQ(again.status, SubmitStatus::duplicate);
  EXPECT_EQ(again.id, first.id);
  engine.drain();
  EXPECT_EQ(seen.payloads, std::multiset<std::string>{"charge"});
}

// Submitted an hour ahead (ManualClock), so they are still pending in the
// log when the first engine stops, and run after the restart.
TEST(SubmitView, DurableViewPayloadComesBackAfterARestart) {
  char tmpl[] = "/tmp/brisk-view-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  ManualClock clock;
  EngineConfig config = one_worker();
  config.clock = &clock;
  config.durability.wal_dir = dir;
  TaskOptions in_an_hour;
  in_an_hour.delay = std::chrono::hours(1);
  const std::vector<std::string> sent = {"", "short", std::string(2000, 'p')};
  {
    Engine engine(config);
    Seen unused;
    const TaskType type = unused.register_on(engine);
    engine.start();
    std::string buffer;
    for (const std::string& p : sent) {
      buffer = p;
      const SubmitResult r = engine.submit(type, std::string_view(buffer), in_an_hour);
      ASSERT_TRUE(r) << r.reason;
      ASSERT_TRUE(engine.wait_durable(r));
      buffer.assign(buffer.size(), '!');
    }
  }
  Engine again(config);
  Seen seen;
  seen.register_on(again);
  again.start();
  EXPECT_EQ(again.recovery_report().tasks_requeued, sent.size());
  clock.advance(std::chrono::minutes(61));
  again.drain();
  again.shutdown();
  EXPECT_EQ(seen.payloads, std::multiset<std::string>(sent.begin(), sent.end()));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace brisk

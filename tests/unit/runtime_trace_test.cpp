// Tracing switched on and off while the engine runs (Engine::start_trace),
// and the profiler's snapshot (Engine::snapshot_json), each checked against
// what the engine did.
#include "brisk/brisk.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "observe/thread_sched.hpp"
#include "support/eventually.hpp"

namespace brisk {
namespace {

using namespace std::chrono_literals;

EngineConfig traced_on_demand(unsigned workers = 2) {
  EngineConfig c;
  c.workers = workers;
  c.pin_workers = false;
  c.observability.trace_events_per_worker = 1 << 14;
  c.observability.trace_from_start = false;
  return c;
}

// Run spans ("B" events) in the trace write_trace drains now.
int traced_tasks(Engine& engine) {
  std::ostringstream out;
  engine.write_trace(out);
  const nlohmann::json trace = nlohmann::json::parse(out.str());  // named: a range-for over a temporary's member dangles
  int begins = 0;
  for (const auto& e : trace["traceEvents"]) begins += e["ph"] == "B";
  return begins;
}

void post_and_drain(Engine& engine, int n) {
  for (int i = 0; i < n; ++i) ASSERT_EQ(engine.post([] {}), SubmitStatus::accepted);
  engine.drain();
}

TEST(RuntimeTrace, RecordsOnlyWhileSwitchedOn) {
  Engine engine(traced_on_demand());
  engine.start();
  EXPECT_FALSE(engine.tracing());
  post_and_drain(engine, 300);
  EXPECT_EQ(traced_tasks(engine), 0);

  ASSERT_EQ(engine.start_trace({.duration = 60s}), TraceStart::started);
  EXPECT_TRUE(engine.tracing());
  EXPECT_EQ(engine.start_trace({.duration = 60s}), TraceStart::already_tracing);  // never queued
  post_and_drain(engine, 500);
  engine.stop_trace();
  EXPECT_FALSE(engine.tracing());
  EXPECT_EQ(traced_tasks(engine), 500);

  post_and_drain(engine, 200);  // off again: nothing recorded
  EXPECT_EQ(traced_tasks(engine), 0);
  ASSERT_EQ(engine.start_trace({.duration = 60s}), TraceStart::started);  // and on again
  post_and_drain(engine, 100);
  engine.stop_trace();
  EXPECT_EQ(traced_tasks(engine), 100);
}

TEST(RuntimeTrace, AnEventBudgetSwitchesItselfOff) {
  Engine engine(traced_on_demand(1));
  engine.start();
  ASSERT_EQ(engine.start_trace({.duration = 60s, .max_events = 100}), TraceStart::started);
  for (int i = 0; i < 2000; ++i) {  // one at a time: batches of one, so the bound is tight
    ASSERT_EQ(engine.post([] {}), SubmitStatus::accepted);
    engine.drain();
  }
  EXPECT_FALSE(engine.tracing());
  const int traced = traced_tasks(engine);
  EXPECT_GE(traced, 50);   // 100 events: a start and an end per task
  EXPECT_LE(traced, 50 + int(engine.config().steal_batch));  // within one batch
}

TEST(RuntimeTrace, ADeadlineSwitchesItselfOff) {
  Engine engine(traced_on_demand(1));
  engine.start();
  ASSERT_EQ(engine.start_trace({.duration = 20ms}), TraceStart::started);
  post_and_drain(engine, 10);
  std::this_thread::sleep_for(50ms);
  post_and_drain(engine, 1);  // the first batch after the deadline sees it
  EXPECT_FALSE(engine.tracing());
  (void)traced_tasks(engine);
  post_and_drain(engine, 100);
  EXPECT_EQ(traced_tasks(engine), 0);
}

TEST(RuntimeTrace, RefusesWithoutRingsOrBeforeStart) {
  EngineConfig c = traced_on_demand();
  c.observability.trace_events_per_worker = 0;
  Engine no_rings(c);
  no_rings.start();
  EXPECT_EQ(no_rings.start_trace({}), TraceStart::not_configured);
  Engine not_started(traced_on_demand());
  EXPECT_EQ(not_started.start_trace({}), TraceStart::not_running);
}

TEST(RuntimeTrace, TraceFromStartStaysTheDefault) {
  EngineConfig c = traced_on_demand();
  c.observability.trace_from_start = true;
  Engine engine(c);
  engine.start();
  EXPECT_TRUE(engine.tracing());
  EXPECT_EQ(engine.start_trace({}), TraceStart::already_tracing);
  post_and_drain(engine, 50);
  EXPECT_EQ(traced_tasks(engine), 50);
}

TEST(ThreadSched, ReadsThisThread) {
  const observe::ThreadSched s = observe::read_thread_sched(static_cast<int>(::gettid()));
  ASSERT_TRUE(s.known);
  EXPECT_GT(s.run_ns, 0u);
  EXPECT_FALSE(observe::read_thread_sched(-1).known);
}

TEST(Snapshot, OneDocumentMatchingTheEngine) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("brisk_snapshot_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  EngineConfig c = traced_on_demand(2);
  c.durability.wal_dir = dir.string();
  Engine engine(c);
  TaskTypeOptions limited;
  limited.max_concurrency = 1;
  limited.rate_per_second = 1000;
  engine.register_task("limited", [](TaskContext&) { return Outcome::success(); }, limited);
  engine.start();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(engine.submit("limited", "x"));
  post_and_drain(engine, 100);
  // The rate limit holds some back on the timer wheel, which drain() does not wait for.
  ASSERT_TRUE(test::eventually([&] { return engine.stats().task_types[0].succeeded == 20; }));

  const EngineStats s = engine.stats();
  const nlohmann::json j = nlohmann::json::parse(engine.snapshot_json());
  EXPECT_EQ(j["brisk_snapshot"], 1);
  EXPECT_EQ(j["stats"]["executed"], s.executed);
  EXPECT_EQ(j["stats"]["accepted"], s.accepted);
  EXPECT_EQ(j["queue_wait_ns"]["count"], s.queue_wait.count);
  std::uint64_t bucketed = 0;
  for (const auto& b : j["run_time_ns"]["buckets"]) bucketed += b[1].get<std::uint64_t>();
  EXPECT_EQ(bucketed, j["run_time_ns"]["count"].get<std::uint64_t>());
  EXPECT_EQ(j["config"]["workers"], 2);
  EXPECT_EQ(j["config"]["credits"], s.credits_capacity);
  EXPECT_EQ(j["lanes"].size(), s.lanes.size());
  ASSERT_EQ(j["workers"].size(), 2u);
  for (const auto& w : j["workers"]) {
    EXPECT_GT(w["tid"].get<int>(), 0);
    ASSERT_TRUE(w.contains("sched")) << w.dump();
    EXPECT_GT(w["sched"]["run_ns"].get<std::uint64_t>(), 0u);
    EXPECT_TRUE(w["sched"].contains("involuntary_switches"));
  }
  ASSERT_EQ(j["task_types"].size(), 1u);
  EXPECT_EQ(j["task_types"][0]["name"], "limited");
  EXPECT_EQ(j["task_types"][0]["succeeded"], 20);
  EXPECT_EQ(j["task_types"][0]["max_concurrency"], 1);
  EXPECT_EQ(j["task_types"][0]["rate_per_second"], 1000.0);
  // The log's histograms count what its totals count, once the log is quiet
  // (completions are still being logged just after drain()).
  const auto log_agrees = [&engine] {
    const nlohmann::json wal = nlohmann::json::parse(engine.snapshot_json())["wal"];
    return wal.is_object() && wal["batch_records"]["sum"] == wal["records"] &&
           wal["batch_bytes"]["sum"] == wal["bytes"] && wal["batch_bytes"]["count"] == wal["batches"] &&
           wal["fsync_ns"]["count"] == wal["syncs"] && wal["syncs"].get<std::uint64_t>() > 0;
  };
  EXPECT_TRUE(test::eventually(log_agrees, std::chrono::seconds(10))) << engine.snapshot_json();
  EXPECT_EQ(j["trace"]["rings"], true);
  EXPECT_EQ(j["trace"]["on"], false);
  engine.shutdown();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace brisk

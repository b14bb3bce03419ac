// Engine observability: counters, latency histograms, Prometheus text,
// traces and health, each checked against what actually happened.
#include "brisk/brisk.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <sstream>
#include <vector>

#include "support/prometheus_parser.hpp"
#include "support/test_seed.hpp"

namespace brisk {
namespace {

using namespace std::chrono_literals;

EngineConfig one_worker(ManualClock* clock = nullptr) {
  EngineConfig c;
  c.workers = 1;
  c.pin_workers = false;
  c.clock = clock;
  return c;
}

TEST(Observability, CountersEqualWhatHappened) {
  Engine engine(one_worker());
  std::atomic<int> calls{0};
  engine.register_task("ok", [&](TaskContext&) { calls.fetch_add(1); });
  TaskTypeOptions once;
  once.retry.max_attempts = 1;
  engine.register_task("bad", [](TaskContext&) { return Outcome::fail("no"); }, once);
  engine.start();
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(engine.submit("ok", ""));
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(engine.submit("bad", ""));
  for (int i = 0; i < 5; ++i) engine.post([] { throw std::runtime_error("x"); });
  for (int i = 0; i < 11; ++i) engine.post([] {}, priority::low);
  EXPECT_EQ(engine.submit("nope", "").status, SubmitStatus::invalid);
  engine.drain();
  const EngineStats s = engine.stats();
  EXPECT_EQ(s.executed, 30u + 7 + 5 + 11);
  EXPECT_EQ(s.failed, 5u);
  EXPECT_EQ(s.rejected_invalid, 1u);
  EXPECT_EQ(s.dead_letters, 7u);
  EXPECT_EQ(s.lanes[priority::low].accepted, 11u);
  EXPECT_EQ(s.lanes[priority::normal].accepted, 30u + 7 + 5);
  ASSERT_EQ(s.task_types.size(), 2u);
  EXPECT_EQ(s.task_types[0].name, "ok");
  EXPECT_EQ(s.task_types[0].accepted, 30u);
  EXPECT_EQ(s.task_types[0].succeeded, 30u);
  EXPECT_EQ(s.task_types[1].failed_attempts, 7u);
  EXPECT_EQ(s.task_types[1].dead_lettered, 7u);
  EXPECT_EQ(s.queue_wait.count, s.executed);
  EXPECT_EQ(s.run_time.count, s.executed);
}

TEST(Observability, RunTimePercentilesMatchRawSamples) {
  ManualClock clock;
  EngineConfig c = one_worker(&clock);
  c.ring_capacity = 8192;
  Engine engine(c);
  std::mt19937_64 rng(test::test_seed());
  std::vector<std::int64_t> durations;
  for (int i = 0; i < 5000; ++i) durations.push_back(1000 + static_cast<std::int64_t>(rng() % 5'000'000));
  // One worker runs jobs one after another; each advances the manual clock
  // by its duration, so its recorded run time is exactly that duration.
  for (std::int64_t d : durations) {
    ASSERT_EQ(engine.post([&clock, d] { clock.advance(std::chrono::nanoseconds(d)); }), SubmitStatus::accepted);
  }
  engine.start();
  engine.drain();
  std::sort(durations.begin(), durations.end());
  const LatencySummary run = engine.stats().run_time;
  ASSERT_EQ(run.count, durations.size());
  auto raw = [&](double p) {
    return durations[static_cast<std::size_t>(p / 100 * static_cast<double>(durations.size() - 1))];
  };
  for (auto [p, got] : {std::pair{50.0, run.p50_ns}, std::pair{90.0, run.p90_ns}, std::pair{99.0, run.p99_ns},
                        std::pair{99.9, run.p999_ns}}) {
    const double want = static_cast<double>(raw(p));
    EXPECT_NEAR(static_cast<double>(got), want, want / 32) << "p" << p;
  }
  EXPECT_EQ(run.max_ns, static_cast<std::uint64_t>(durations.back()));
}

// Runs of tiny jobs are timed a group at a time (a clock read costs what an
// empty task does). A rare long job among them must still show: every job
// counted once, the sum exact, the maximum and the tail that long job's
// run time, and the queue wait of the jobs grouped with it not understated.
TEST(Observability, ALongJobAmongTinyOnesKeepsItsRunTime) {
  ManualClock clock;
  EngineConfig c = one_worker(&clock);
  c.ring_capacity = 8192;
  Engine engine(c);
  constexpr int kJobs = 4000, kLongEvery = 400;
  static constexpr auto kLong = 5ms;
  const auto long_ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(kLong).count());
  // Long jobs at 390, 791, 1192, ...: at shifting offsets, so that some
  // share a timed group with tiny jobs after them (where the groups fall
  // depends on the batches). All jobs are queued before start and tiny ones
  // take no time, so
  // a job truly starts after the long jobs ahead of it: `waited` sums that.
  std::uint64_t waited = 0, longs_ahead = 0;
  for (int i = 0; i < kJobs; ++i) {
    waited += longs_ahead * long_ns;
    if (i % kLongEvery == kLongEvery - 10 + i / kLongEvery) {
      ++longs_ahead;
      ASSERT_EQ(engine.post([&clock] { clock.advance(kLong); }), SubmitStatus::accepted);
    } else {
      ASSERT_EQ(engine.post([] {}), SubmitStatus::accepted);  // takes no time on the manual clock
    }
  }
  engine.start();
  engine.drain();
  const EngineStats s = engine.stats();
  ASSERT_EQ(s.executed, static_cast<std::uint64_t>(kJobs));
  EXPECT_EQ(s.run_time.count, s.executed);
  EXPECT_EQ(s.queue_wait.count, s.executed);
  EXPECT_EQ(s.run_time.max_ns, long_ns);
  EXPECT_DOUBLE_EQ(s.run_time.mean_ns, static_cast<double>(long_ns) * (kJobs / kLongEvery) / kJobs);
  EXPECT_EQ(s.run_time.p50_ns, 0u);
  // 1 job in 400 is long: p99.9 falls on them.
  EXPECT_NEAR(static_cast<double>(s.run_time.p999_ns), static_cast<double>(long_ns), long_ns / 32.0);
  // Queue waits of jobs grouped with a long one are bounds, never short.
  EXPECT_GE(s.queue_wait.mean_ns * static_cast<double>(s.queue_wait.count), static_cast<double>(waited));
  EXPECT_GE(s.workers[0].busy_ns, long_ns * (kJobs / kLongEvery));
}

TEST(Observability, PrometheusTextParsesStrictly) {
  Engine engine(one_worker());
  engine.register_task("email \"quoted\"\\type", [](TaskContext&) {});
  engine.start();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(engine.submit("email \"quoted\"\\type", ""));
  engine.drain();
  const std::string text = engine.prometheus_text();
  test::PromExposition parsed;
  ASSERT_NO_THROW(parsed = test::parse_prometheus(text)) << text;
  const test::PromFamily* accepted = parsed.family("brisk_tasks_accepted_total");
  ASSERT_NE(accepted, nullptr);
  ASSERT_EQ(accepted->samples.size(), 1u);
  EXPECT_EQ(accepted->samples[0].value, 10);
  ASSERT_NE(accepted->samples[0].label("type"), nullptr);
  EXPECT_EQ(*accepted->samples[0].label("type"), "email \"quoted\"\\type");
  ASSERT_NE(parsed.family("brisk_queue_wait_seconds"), nullptr);
  EXPECT_EQ(parsed.family("brisk_queue_wait_seconds")->type, "histogram");
}

// A component's metrics (brisk::cluster's worker registers its own) are
// served with the engine's, in one strictly parsable exposition, until the
// component removes them; after remove_metrics_source() returns the source
// is never called again (the component may be destroyed).
TEST(Observability, MetricsSourcesJoinThePrometheusTextUntilRemoved) {
  Engine engine(one_worker());
  engine.start();
  std::atomic<int> renders{0};
  const std::uint64_t id = engine.add_metrics_source([&renders] {
    renders.fetch_add(1);
    return std::string("# HELP demo_component_up Whether the demo component is up.\n"
                       "# TYPE demo_component_up gauge\n"
                       "demo_component_up 1");  // no final newline: the engine adds it
  });
  test::PromExposition parsed;
  ASSERT_NO_THROW(parsed = test::parse_prometheus(engine.prometheus_text()));
  ASSERT_NE(parsed.family("demo_component_up"), nullptr);
  EXPECT_EQ(parsed.family("demo_component_up")->samples.at(0).value, 1);
  ASSERT_NE(parsed.family("brisk_jobs_accepted_total"), nullptr);  // the engine's own, beside it
  EXPECT_EQ(renders.load(), 1);

  engine.remove_metrics_source(id);
  engine.remove_metrics_source(id);  // twice: ignored
  ASSERT_NO_THROW(parsed = test::parse_prometheus(engine.prometheus_text()));
  EXPECT_EQ(parsed.family("demo_component_up"), nullptr);
  EXPECT_EQ(renders.load(), 1);
}

TEST(Observability, TraceHasOneBeginAndOneEndPerTask) {
  EngineConfig c = one_worker();
  c.workers = 2;
  c.observability.trace_events_per_worker = 1 << 14;
  Engine engine(c);
  engine.start();
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(engine.post([] {}), SubmitStatus::accepted);
  engine.drain();
  std::ostringstream out;
  engine.write_trace(out);
  const nlohmann::json trace = nlohmann::json::parse(out.str());
  std::map<std::string, int> submits, begins, ends;
  std::map<int, bool> worker_tracks;
  for (const auto& e : trace["traceEvents"]) {
    const std::string ph = e["ph"];
    if (ph == "M") continue;
    if (ph == "i" && e["name"] == "submit") submits[e["args"]["task"].dump()]++;
    if (ph == "B") begins[e["args"]["task"].dump()]++;
    if (ph == "E") ends[e["args"]["task"].dump()]++;
    worker_tracks[e["tid"].get<int>()] = true;
  }
  EXPECT_EQ(submits.size(), 1000u);
  EXPECT_EQ(begins.size(), 1000u);
  EXPECT_EQ(ends.size(), 1000u);
  for (const auto& [task, n] : submits) EXPECT_EQ(n, 1) << task;
  for (const auto& [task, n] : begins) EXPECT_EQ(n, 1) << task;
  for (const auto& [task, n] : ends) EXPECT_EQ(n, 1) << task;
  EXPECT_EQ(engine.stats().trace_dropped, 0u);
}

TEST(Observability, HealthDegradesUnderErrorStormAndRecovers) {
  EngineConfig c = one_worker();
  c.observability.health.max_error_rate = 0.5;
  c.observability.health.min_completions = 50;
  Engine engine(c);
  TaskTypeOptions once;
  once.retry.max_attempts = 1;
  std::atomic<bool> storm{false};
  engine.register_task("call", [&](TaskContext&) { return storm ? Outcome::fail("503") : Outcome::success(); },
                       once);
  engine.start();
  auto window = [&] {
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(engine.submit("call", ""));
    engine.drain();
  };
  EXPECT_TRUE(engine.health().healthy());
  window();
  EXPECT_TRUE(engine.health().healthy());
  storm = true;
  window();
  const HealthReport bad = engine.health();
  EXPECT_FALSE(bad.healthy());
  ASSERT_FALSE(bad.reasons.empty());
  EXPECT_NE(bad.reasons[0].find("error rate"), std::string::npos) << bad.text();
  storm = false;
  window();
  EXPECT_TRUE(engine.health().healthy()) << "must recover once errors stop";
}

}  // namespace
}  // namespace brisk

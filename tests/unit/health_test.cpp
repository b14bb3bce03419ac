#include <gtest/gtest.h>

#include <string>

#include "metrics/health.hpp"

namespace brisk::metrics {
namespace {

constexpr std::uint64_t kSecond = 1'000'000'000;

HealthThresholds thresholds() {
  HealthThresholds t;
  t.max_queue_depth = 1000;
  t.max_error_rate = 0.05;
  t.min_completions = 100;
  t.min_rate_ratio = 0.5;
  t.max_dead_workers = 0;
  t.max_dlq_growth = 10;
  return t;
}

// A steady engine: 4 workers, `ok` successes and `failed` failures per second.
struct Engine {
  HealthSnapshot s{0, 0, 0, 0, 0, 4, 4};
  HealthSnapshot tick(std::uint64_t ok, std::uint64_t failed, std::uint64_t depth = 10) {
    s.at_ns += kSecond;
    s.succeeded += ok;
    s.failed += failed;
    s.queue_depth = depth;
    return s;
  }
};

bool mentions(const HealthReport& r, const std::string& what) {
  return r.text().find(what) != std::string::npos;
}

TEST(Health, SteadyEngineIsHealthy) {
  HealthMonitor m(thresholds());
  Engine e;
  for (int i = 0; i < 5; ++i) {
    const HealthReport r = m.observe(e.tick(1000, 1));
    EXPECT_TRUE(r.healthy()) << r.text();
    EXPECT_EQ(r.text(), "ok\n");
  }
  EXPECT_NEAR(m.baseline_rate_per_s(), 1001, 1e-9);
}

TEST(Health, ErrorStormDegradesAndRecovers) {
  HealthMonitor m(thresholds());
  Engine e;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(m.observe(e.tick(1000, 0)).healthy());
  const HealthReport storm = m.observe(e.tick(500, 500));
  EXPECT_FALSE(storm.healthy());
  EXPECT_TRUE(mentions(storm, "error rate 50.0% (500 of 1000) exceeds 5.0%")) << storm.text();
  EXPECT_FALSE(m.observe(e.tick(100, 900)).healthy());
  const HealthReport after = m.observe(e.tick(1000, 2));
  EXPECT_TRUE(after.healthy()) << after.text();
}

TEST(Health, TooFewCompletionsDoNotJudgeErrorRate) {
  const HealthSnapshot a{0, 0, 0, 0, 0, 4, 4};
  const HealthSnapshot b{kSecond, 0, 10, 40, 0, 4, 4};
  EXPECT_TRUE(evaluate_health(thresholds(), a, b, 0).healthy());
}

TEST(Health, QueueDepthDeadWorkersAndDlqGrowth) {
  const HealthSnapshot a{0, 0, 0, 0, 5, 4, 4};
  HealthSnapshot b{kSecond, 5000, 1000, 0, 5, 4, 4};
  EXPECT_TRUE(mentions(evaluate_health(thresholds(), a, b, 0), "queue depth 5000 exceeds 1000"));
  b.queue_depth = 0;
  b.workers_alive = 3;
  EXPECT_TRUE(mentions(evaluate_health(thresholds(), a, b, 0), "1 of 4 workers dead"));
  b.workers_alive = 4;
  b.dlq_size = 100;
  EXPECT_TRUE(mentions(evaluate_health(thresholds(), a, b, 0), "dead-letter queue grew by 95"));
  b.dlq_size = 0;  // drained: shrinking is fine
  EXPECT_TRUE(evaluate_health(thresholds(), a, b, 0).healthy());
}

TEST(Health, RateDropWithWorkWaitingDegradesIdleDoesNot) {
  HealthMonitor m(thresholds());
  Engine e;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(m.observe(e.tick(1000, 0)).healthy());
  // Idle: nothing queued, nothing done. Healthy, and the baseline is kept.
  EXPECT_TRUE(m.observe(e.tick(0, 0, /*depth=*/0)).healthy());
  EXPECT_NEAR(m.baseline_rate_per_s(), 1000, 1e-9);
  // Stalled: work waits but little completes.
  const HealthReport stall = m.observe(e.tick(100, 0, /*depth=*/500));
  EXPECT_TRUE(mentions(stall, "processing rate 100/s below 50% of baseline 1000/s with 500 queued")) << stall.text();
  EXPECT_FALSE(m.observe(e.tick(100, 0, 500)).healthy());  // the stall did not lower the baseline
  EXPECT_TRUE(m.observe(e.tick(900, 0, 100)).healthy());
}

TEST(Health, FirstObservationHasNoWindow) {
  HealthMonitor m(thresholds());
  const HealthReport r = m.observe(HealthSnapshot{kSecond, 2000, 5, 5, 0, 4, 2});
  EXPECT_FALSE(r.healthy());
  EXPECT_EQ(r.reasons.size(), 2u) << r.text();  // depth and dead workers only
}

}  // namespace
}  // namespace brisk::metrics

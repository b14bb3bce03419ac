// The profiler's tuning rules (tools/brisk/tuning_advice.hpp): each fires on
// numbers that should trigger it, names its config field and quotes the
// number, and stays silent on a healthy run or on numbers it was not given.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "../../tools/brisk/tuning_advice.hpp"

namespace brisk::tools {
namespace {

// A run that needs no tuning: 4 workers 60% busy, short waits, no refusals,
// work spread evenly, few parks.
Measurements healthy() {
  Measurements m;
  m.wall_s = 2;
  m.workers = 4;
  m.executed = 1'000'000;
  m.queue_wait_p50_ns = 2'000;
  m.queue_wait_p99_ns = 15'000;
  m.run_time_p50_ns = 5'000;
  m.run_time_mean_ns = 6'000;
  m.busy_fraction = 0.6;
  m.parks_per_worker_s = 10;
  m.steal_fraction = 0.05;
  m.jobs_per_steal = 8;
  m.top_shard_share = 0.27;
  m.top_shard = 1;
  m.offered = 1'000'000;
  m.rejected_full = 0;
  m.rejected_backpressure = 0;
  m.producer_blocked_fraction = 0;
  m.trace_dropped = 0;
  m.spin_polls = 2000;
  m.steal_batch = 16;
  m.ring_capacity = 4096;
  m.credits = 49152;
  return m;
}

std::vector<std::string> fields(const std::vector<Advice>& advice) {
  std::vector<std::string> out;
  for (const Advice& a : advice) out.push_back(a.field);
  return out;
}

// A copy, not a pointer: callers pass the temporary tuning_advice() returns.
std::optional<Advice> find(const std::vector<Advice>& advice, const std::string& field, const std::string& needle = "") {
  const auto it = std::find_if(advice.begin(), advice.end(), [&](const Advice& a) {
    return a.field == field && a.text.find(needle) != std::string::npos;
  });
  if (it == advice.end()) return std::nullopt;
  return *it;
}

TEST(ProfileAdvice, HealthyRunGetsNoAdvice) { EXPECT_TRUE(tuning_advice(healthy()).empty()); }

TEST(ProfileAdvice, UnmeasuredNumbersTriggerNothing) { EXPECT_TRUE(tuning_advice(Measurements{}).empty()); }

TEST(ProfileAdvice, OneShardHoldingMostJobsPointsAtProducerAffinity) {
  Measurements m = healthy();
  m.top_shard_share = 0.91;
  m.top_shard = 0;
  const auto advice = tuning_advice(m);
  const auto a = find(advice, "steal_batch", "affinity");
  ASSERT_TRUE(a) << ::testing::PrintToString(fields(advice));
  EXPECT_NE(a->text.find("shard 0 received 91%"), std::string::npos) << a->text;
  EXPECT_NE(a->text.find("(now 16)"), std::string::npos) << a->text;
  // Two workers: 70% is above half but below 1.5x the fair 50%; 80% is not.
  m.workers = 2;
  m.top_shard_share = 0.7;
  EXPECT_FALSE(find(tuning_advice(m), "steal_batch", "affinity"));
  m.top_shard_share = 0.8;
  EXPECT_TRUE(find(tuning_advice(m), "steal_batch", "affinity"));
  // One worker has one shard: it holds everything by definition.
  m.workers = 1;
  m.top_shard_share = 1;
  EXPECT_FALSE(find(tuning_advice(m), "steal_batch", "affinity"));
}

TEST(ProfileAdvice, FrequentParksWithLateWakesLengthenTheSpin) {
  Measurements m = healthy();
  m.parks_per_worker_s = 800;
  m.queue_wait_p99_ns = 120'000;
  m.run_time_p50_ns = 1'000;
  const auto a = find(tuning_advice(m), "spin_polls");
  ASSERT_TRUE(a);
  EXPECT_NE(a->text.find("800 times per second"), std::string::npos) << a->text;
  EXPECT_NE(a->text.find("p99 120.0 us"), std::string::npos) << a->text;
  EXPECT_NE(a->text.find("try 8000"), std::string::npos) << a->text;
  // Parks often but wakes in time: the tail is within 10x the work.
  m.queue_wait_p99_ns = 9'000;
  EXPECT_FALSE(find(tuning_advice(m), "spin_polls"));
  // Wakes late but rarely parks: the spin is not what is slow.
  m.queue_wait_p99_ns = 120'000;
  m.parks_per_worker_s = 50;
  EXPECT_FALSE(find(tuning_advice(m), "spin_polls"));
}

TEST(ProfileAdvice, FullRingsRaiseRingCapacity) {
  Measurements m = healthy();
  m.rejected_full = 5'000;
  const auto a = find(tuning_advice(m), "ring_capacity");
  ASSERT_TRUE(a);
  EXPECT_NE(a->text.find("5000 submissions"), std::string::npos) << a->text;
  EXPECT_NE(a->text.find("0.50% of offers"), std::string::npos) << a->text;
  EXPECT_NE(a->text.find("(now 4096)"), std::string::npos) << a->text;
}

TEST(ProfileAdvice, BackpressureRaisesCreditsOnlyWhenWorkersHaveHeadroom) {
  Measurements m = healthy();
  m.rejected_backpressure = 300;
  auto a = find(tuning_advice(m), "credits");
  ASSERT_TRUE(a);
  EXPECT_NE(a->text.find("300 refusals"), std::string::npos) << a->text;
  EXPECT_NE(a->text.find("raise credits (now 49152)"), std::string::npos) << a->text;

  m.rejected_backpressure = 0;
  m.producer_blocked_fraction = 0.2;
  m.busy_fraction = 0.95;
  a = find(tuning_advice(m), "credits");
  ASSERT_TRUE(a);
  EXPECT_NE(a->text.find("blocked 20.0%"), std::string::npos) << a->text;
  EXPECT_NE(a->text.find("saturated"), std::string::npos) << a->text;

  m.producer_blocked_fraction = 0.01;  // a little shaping is what credits are for
  EXPECT_FALSE(find(tuning_advice(m), "credits"));
}

TEST(ProfileAdvice, HeavyStealingOfSmallTasksRaisesStealBatch) {
  Measurements m = healthy();
  m.steal_fraction = 0.45;
  m.jobs_per_steal = 3;
  m.run_time_mean_ns = 800;
  const auto a = find(tuning_advice(m), "steal_batch", "stolen");
  ASSERT_TRUE(a);
  EXPECT_NE(a->text.find("45% of jobs"), std::string::npos) << a->text;
  EXPECT_NE(a->text.find("0.80 us"), std::string::npos) << a->text;
  m.run_time_mean_ns = 50'000;  // big tasks: the steal's cost is noise
  EXPECT_FALSE(find(tuning_advice(m), "steal_batch", "stolen"));
}

TEST(ProfileAdvice, MostlyIdleWorkersSuggestFewer) {
  Measurements m = healthy();
  m.workers = 8;
  m.busy_fraction = 0.1;
  const auto a = find(tuning_advice(m), "workers", "busy 10.0%");
  ASSERT_TRUE(a);
  EXPECT_NE(a->text.find("2 worker(s)"), std::string::npos) << a->text;  // 0.8 busy workers at 70%
  m.workers = 1;  // nothing to take away
  EXPECT_FALSE(find(tuning_advice(m), "workers", "busy"));
}

TEST(ProfileAdvice, QueueWaitDominatingSaturatedWorkersAsksForMoreWorkers) {
  Measurements m = healthy();
  m.busy_fraction = 0.93;
  m.queue_wait_p50_ns = 400'000;
  m.run_time_mean_ns = 10'000;
  const auto a = find(tuning_advice(m), "workers", "queue wait dominates");
  ASSERT_TRUE(a);
  EXPECT_NE(a->text.find("p50 400.0 us"), std::string::npos) << a->text;
  m.busy_fraction = 0.5;  // waiting while workers idle is a wake-up problem, not capacity
  EXPECT_FALSE(find(tuning_advice(m), "workers", "queue wait dominates"));
}

TEST(ProfileAdvice, DroppedTraceEventsAskForBiggerTraceRings) {
  Measurements m = healthy();
  m.trace_dropped = 12;
  const auto a = find(tuning_advice(m), "observability.trace_events_per_worker");
  ASSERT_TRUE(a);
  EXPECT_NE(a->text.find("12 trace events"), std::string::npos) << a->text;
}

TEST(ProfileAdvice, UnknownConfigIsNotQuoted) {
  Measurements m = healthy();
  m.rejected_full = 1;
  m.ring_capacity = -1;  // a recorded trace does not say
  const auto a = find(tuning_advice(m), "ring_capacity");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->text.find("(now"), std::string::npos) << a->text;
}

}  // namespace
}  // namespace brisk::tools

namespace brisk::tools {
namespace {

// healthy() with a quiet host measured too.
Measurements healthy_host() {
  Measurements m = healthy();
  m.runnable_wait_fraction = 0.01;
  m.involuntary_per_worker_s = 20;
  return m;
}

TEST(ProfileAdvice, CompetingHostThreadsNameTheContention) {
  EXPECT_TRUE(tuning_advice(healthy_host()).empty());
  Measurements m = healthy_host();
  m.runnable_wait_fraction = 0.30;
  m.involuntary_per_worker_s = 900;
  const std::vector<Advice> advice = tuning_advice(m);
  ASSERT_EQ(advice.size(), 1u);
  EXPECT_EQ(advice[0].field, "workers");
  EXPECT_NE(advice[0].text.find("the host's threads compete with brisk's workers for CPUs"), std::string::npos);
  EXPECT_NE(advice[0].text.find("30.0%"), std::string::npos) << advice[0].text;
  EXPECT_EQ(advice[0].current, "4");
  EXPECT_EQ(advice[0].suggested, "3, or pinned to reserved cores");
  EXPECT_NE(advice[0].evidence.find("900 involuntary switches"), std::string::npos) << advice[0].evidence;
}

// Workers that park because their yields lose the CPU to the host's threads
// (issue 22) are not told to spin longer: the host rule names the cause.
TEST(ProfileAdvice, StrandedYieldsNameTheHostNotTheSpin) {
  Measurements m = healthy_host();
  m.parks_per_worker_s = 800;
  m.queue_wait_p99_ns = 120'000;
  m.run_time_p50_ns = 1'000;
  m.stranded_yields_per_worker_s = 0.5;
  const std::vector<Advice> advice = tuning_advice(m);
  EXPECT_FALSE(find(advice, "spin_polls"));
  const auto host = find(advice, "workers");
  ASSERT_TRUE(host);
  EXPECT_NE(host->text.find("the host's threads compete with brisk's workers for CPUs"), std::string::npos);
  EXPECT_NE(host->evidence.find("0.50 stranded yields per worker-second"), std::string::npos) << host->evidence;
  m.stranded_yields_per_worker_s = 0;
  EXPECT_TRUE(find(tuning_advice(m), "spin_polls"));
}

TEST(ProfileAdvice, ATypeHeldBackByItsOwnLimitsSaysSo) {
  Measurements m = healthy_host();
  m.type_limits.push_back({"resize", 2, 0, 1000, 0, 37});
  m.type_limits.push_back({"email", 0, 50, 400, 120, 0});
  m.type_limits.push_back({"calm", 8, 100, 100, 0, 0});  // limits that held nothing back
  const std::vector<Advice> advice = tuning_advice(m);
  ASSERT_EQ(advice.size(), 2u);
  EXPECT_EQ(advice[0].field, "TaskTypeOptions::max_concurrency (resize)");
  EXPECT_EQ(advice[0].current, "2");
  EXPECT_EQ(advice[0].suggested, "4");
  EXPECT_NE(advice[0].text.find("37 task(s) wait"), std::string::npos) << advice[0].text;
  EXPECT_EQ(advice[1].field, "TaskTypeOptions::rate_per_second (email)");
  EXPECT_EQ(advice[1].current, "50");
  EXPECT_EQ(advice[1].suggested, "200");  // 400 accepted over 2 s
  EXPECT_NE(advice[1].text.find("120 start(s) deferred"), std::string::npos) << advice[1].text;
}

TEST(ProfileAdvice, OneFsyncPerRecordPointsAtTheFsyncPolicy) {
  Measurements m = healthy_host();
  m.fsync_always = 1;
  m.wal_batch_records_p50 = 1;
  m.wal_fsync_p99_ns = 4e6;
  const std::vector<Advice> advice = tuning_advice(m);
  ASSERT_EQ(advice.size(), 1u);
  EXPECT_EQ(advice[0].field, "durability.fsync");
  EXPECT_EQ(advice[0].current, "always");
  m.wal_batch_records_p50 = 40;  // groups well: no advice
  EXPECT_TRUE(tuning_advice(m).empty());
}

}  // namespace
}  // namespace brisk::tools

namespace brisk::tools {
namespace {

// The rules that once had only text give the value now, the one to try and
// the evidence as fields of their own, from the numbers they were given.
TEST(ProfileAdvice, EveryRuleGivesCurrentSuggestedAndEvidence) {
  Measurements m = healthy();
  m.top_shard_share = 0.91;
  m.top_shard = 0;
  m.parks_per_worker_s = 800;
  m.queue_wait_p99_ns = 120'000;
  m.run_time_p50_ns = 1'000;
  m.rejected_full = 5'000;
  m.rejected_backpressure = 300;
  m.trace_dropped = 12;
  m.trace_events_per_worker = 1024;
  m.steal_fraction = 0.45;
  m.jobs_per_steal = 3;
  m.run_time_mean_ns = 800;
  const auto advice = tuning_advice(m);
  ASSERT_GE(advice.size(), 6u);
  for (const Advice& a : advice) {
    EXPECT_FALSE(a.current.empty()) << a.field;
    EXPECT_FALSE(a.suggested.empty()) << a.field;
    EXPECT_FALSE(a.evidence.empty()) << a.field;
  }
  const auto affinity = find(advice, "steal_batch", "affinity");
  ASSERT_TRUE(affinity);
  EXPECT_EQ(affinity->current, "16");
  EXPECT_EQ(affinity->suggested, "32");
  EXPECT_EQ(affinity->evidence, "shard 0 received 91% of all jobs against a fair 25%");
  const auto spin = find(advice, "spin_polls");
  ASSERT_TRUE(spin);
  EXPECT_EQ(spin->current, "2000");
  EXPECT_EQ(spin->suggested, "8000");
  EXPECT_NE(spin->evidence.find("800 parks per worker-second"), std::string::npos) << spin->evidence;
  const auto rings = find(advice, "ring_capacity");
  ASSERT_TRUE(rings);
  EXPECT_EQ(rings->current, "4096");
  EXPECT_EQ(rings->suggested, "8192");
  EXPECT_EQ(rings->evidence, "5000 rejected_full (0.50% of offers)");
  const auto credits = find(advice, "credits");
  ASSERT_TRUE(credits);
  EXPECT_EQ(credits->current, "49152");
  EXPECT_EQ(credits->suggested, "98304");  // workers 60% busy: headroom
  EXPECT_NE(credits->evidence.find("300 rejected_backpressure"), std::string::npos) << credits->evidence;
  const auto steal = find(advice, "steal_batch", "stolen");
  ASSERT_TRUE(steal);
  EXPECT_EQ(steal->suggested, "32");
  EXPECT_EQ(steal->evidence, "45% of jobs stolen, 3.0 per steal, 0.80 us per job");
  const auto rings_trace = find(advice, "observability.trace_events_per_worker");
  ASSERT_TRUE(rings_trace);
  EXPECT_EQ(rings_trace->current, "1024");
  EXPECT_EQ(rings_trace->suggested, "4096");
  EXPECT_EQ(rings_trace->evidence, "12 trace events dropped");
}

TEST(ProfileAdvice, WorkerCountRulesSuggestACount) {
  Measurements m = healthy();
  m.workers = 8;
  m.busy_fraction = 0.1;
  auto a = find(tuning_advice(m), "workers", "busy 10.0%");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->current, "8");
  EXPECT_EQ(a->suggested, "2");
  EXPECT_EQ(a->evidence, "workers busy 10.0% of the time");

  m = healthy();
  m.busy_fraction = 0.93;
  m.queue_wait_p50_ns = 400'000;
  m.run_time_mean_ns = 10'000;
  a = find(tuning_advice(m), "workers", "queue wait dominates");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->current, "4");
  EXPECT_EQ(a->suggested, "6");  // 4 x 93% = 3.7 busy workers, at 70% each
  EXPECT_NE(a->evidence.find("workers 93% busy"), std::string::npos) << a->evidence;
}

TEST(ProfileAdvice, SaturatedWorkersKeepCreditsAndUnknownConfigSaysSo) {
  Measurements m = healthy();
  m.producer_blocked_fraction = 0.2;
  m.busy_fraction = 0.95;
  auto a = find(tuning_advice(m), "credits");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->suggested, "49152 (add workers instead)");
  m = healthy();
  m.rejected_full = 1;
  m.ring_capacity = -1;  // a recorded trace does not say
  a = find(tuning_advice(m), "ring_capacity");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->current, "unknown");
  EXPECT_EQ(a->suggested, "larger");
}

}  // namespace
}  // namespace brisk::tools

// Periodic tasks on the engine: an interval and a cron schedule firing on
// time (ManualClock), no slot fired twice across a restart of a durable
// engine, the missed-slot policies after downtime, and a slow handler that
// does not pile up firings.
#include "brisk/brisk.hpp"
#include "brisk/schedule.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/eventually.hpp"
#include "wal_test_support.hpp"

namespace brisk {
namespace {

using namespace std::chrono_literals;
constexpr std::int64_t kS = 1'000'000'000;
constexpr std::int64_t kMs = 1'000'000;

// The scheduler's wall clock in tests: `at_start` when the manual clock
// read `clock_start`, moving with it.
class ManualWall final : public Clock {
 public:
  ManualWall(const ManualClock& clock, std::int64_t at_start)
      : clock_(clock), clock_start_(clock.now_ns()), at_start_(at_start) {}
  std::int64_t now_ns() const noexcept override { return at_start_ + (clock_.now_ns() - clock_start_); }

 private:
  const ManualClock& clock_;
  std::int64_t clock_start_;
  std::int64_t at_start_;
};

std::int64_t system_wall() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What the handler saw: the slot (from the key) and the wall time it ran at.
struct Runs {
  std::mutex mutex;
  std::vector<std::pair<std::int64_t, std::int64_t>> seen;  // slot, wall
  void add(const TaskContext& t, const Clock& wall) {
    const std::string_view key = t.idempotency_key();
    const std::int64_t slot = std::stoll(std::string(key.substr(key.rfind('/') + 1)));
    std::lock_guard lock(mutex);
    seen.emplace_back(slot, wall.now_ns());
  }
  std::vector<std::int64_t> slots() {
    std::lock_guard lock(mutex);
    std::vector<std::int64_t> out;
    for (auto& [slot, at] : seen) out.push_back(slot);
    return out;
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return seen.size();
  }
};

EngineConfig manual_config(ManualClock& clock) {
  EngineConfig c;
  c.workers = 2;
  c.pin_workers = false;
  c.clock = &clock;
  return c;
}

// An engine and its scheduler on a manual clock, the wall clock at t0.
struct ManualProcess {
  explicit ManualProcess(std::int64_t t0, std::chrono::nanoseconds submit_ahead = std::chrono::hours(1))
      : wall(clock, t0), engine(manual_config(clock)), scheduler(engine, SchedulerConfig{submit_ahead, &wall}) {}
  ManualClock clock;
  ManualWall wall;
  Engine engine;
  Scheduler scheduler;
  Runs runs;
};

TEST(Schedule, IntervalFiresExactlyOnItsSlotsOnAManualClock) {
  // Wall time 2025-01-01 00:00:03 UTC: slots every 10 s fall on :10, :20 ...
  const std::int64_t t0 = 1735689600 * kS + 3 * kS;
  ManualProcess p(t0);
  auto& [clock, wall, engine, scheduler, runs] = p;
  scheduler.register_task("tick", [&](TaskContext& t) {
    EXPECT_EQ(t.payload(), "p");
    runs.add(t, wall);
  });
  scheduler.add("every-10s", Schedule::every(10s), "tick", "p");
  engine.start();
  scheduler.start();
  for (int second = 1; second <= 35; ++second) {
    clock.advance(1s);
    engine.drain();
    const std::size_t want = second < 7 ? 0 : (second - 7) / 10 + 1;  // slots at +7, +17, +27 s
    ASSERT_EQ(runs.size(), want) << "at +" << second << " s";
  }
  EXPECT_EQ(runs.slots(), (std::vector<std::int64_t>{t0 + 7 * kS, t0 + 17 * kS, t0 + 27 * kS}));
  for (auto& [slot, at] : runs.seen) EXPECT_EQ(at, slot) << "fired when the clock reached its slot, not later";
  const std::vector<ScheduleStats> stats = scheduler.stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].runs, 3u);
  EXPECT_EQ(stats[0].submitted, 4u) << "the three that ran and the next";
  EXPECT_EQ(stats[0].next_slot_ns, t0 + 37 * kS);
  EXPECT_EQ(stats[0].lag_max_ns, 0u);
  const std::string text = scheduler.prometheus_text();
  EXPECT_NE(text.find("brisk_schedule_runs_total{schedule=\"every-10s\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE brisk_schedule_lag_seconds summary"), std::string::npos) << text;
  EXPECT_NE(text.find("brisk_schedule_lag_seconds_count{schedule=\"every-10s\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("brisk_schedule_lag_seconds_sum{schedule=\"every-10s\"} 0"), std::string::npos) << text;
}

TEST(Schedule, CronInBerlinFiresAtTheEndOfTheSpringForwardGap) {
  ManualProcess p(1743292800 * kS, 2h);  // 2025-03-30 00:00 UTC (01:00 CET)
  auto& [clock, wall, engine, scheduler, runs] = p;
  scheduler.register_task("nightly", [&](TaskContext& t) { runs.add(t, wall); });
  scheduler.add("at-0230", Schedule::cron("30 2 * * *", "Europe/Berlin"), "nightly");
  engine.start();
  scheduler.start();
  clock.advance(3599s);
  engine.drain();
  EXPECT_EQ(runs.size(), 0u);
  clock.advance(1s);  // 01:00 UTC: 03:00 CEST, where 02:30 would have been
  engine.drain();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs.seen[0].first, 1743296400 * kS);
  // The next, 2025-03-31 02:30 CEST, is 23.5 h away: more than submit_ahead,
  // so a wake waits for it and submits the firing 2 h before.
  EXPECT_EQ(scheduler.stats()[0].next_slot_ns, 1743381000 * kS);
  clock.advance(std::chrono::seconds(1743381000 - 1743296400 - 1));
  engine.drain();
  EXPECT_EQ(runs.size(), 1u);
  clock.advance(1s);
  engine.drain();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs.seen[1].first, 1743381000 * kS);
}

// A durable engine on a manual clock whose scheduler wall clock is the one
// the log converts with (the real wall clock when the log opened, moved by
// the manual clock), plus `down`: how long the process was down.
struct DurableProcess {
  DurableProcess(const std::string& dir, std::chrono::nanoseconds down, MissedSlots missed,
                 std::chrono::nanoseconds period, std::int64_t phase, bool add_schedule = true)
      : wall(clock, system_wall() + down.count()) {
    EngineConfig c = manual_config(clock);
    c.durability.wal_dir = dir;
    engine = std::make_unique<Engine>(c);
    SchedulerConfig sc;
    sc.wall_clock = &wall;
    scheduler = std::make_unique<Scheduler>(*engine, sc);
    scheduler->register_task("job", [this](TaskContext& t) { runs.add(t, wall); });
    ScheduleOptions o;
    o.missed = missed;
    if (add_schedule) scheduler->add("job-every", Schedule::every(period, std::chrono::nanoseconds(phase)), "job", "", o);
    engine->start();
  }
  ~DurableProcess() {
    scheduler.reset();
    engine.reset();
  }
  ScheduleStats stats() { return scheduler->stats().at(0); }

  ManualClock clock;
  ManualWall wall;
  Runs runs;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Scheduler> scheduler;
};

constexpr std::int64_t kPeriod = 10 * kS;

// The phase that puts a 10 s schedule's first slot 300 ms from now, so that
// a restart right after it lands between it and the next.
std::int64_t phase_300ms_ahead() { return ((system_wall() + 300 * kMs) % kPeriod + kPeriod) % kPeriod; }

// The first process: fires its first slot and stops, leaving the next one
// pending in the log. Returns the first slot.
std::int64_t fire_first_slot(const std::string& dir, MissedSlots missed, std::int64_t phase) {
  DurableProcess p(dir, 0s, missed, std::chrono::nanoseconds(kPeriod), phase);
  p.scheduler->start();
  const std::int64_t first = p.stats().next_slot_ns;
  p.clock.advance(std::chrono::nanoseconds(first - p.wall.now_ns()));
  p.engine->drain();
  EXPECT_EQ(p.runs.slots(), (std::vector<std::int64_t>{first}));
  EXPECT_EQ(p.stats().next_slot_ns, first + kPeriod) << "the next slot was submitted when the firing ended";
  return first;
}

TEST(Schedule, RestartDoesNotFireASlotTwice) {
  test::TempDir dir;
  const std::int64_t period = kPeriod;
  const std::int64_t phase = phase_300ms_ahead();
  const std::int64_t first = fire_first_slot(dir.path(), MissedSlots::skip(), phase);
  std::this_thread::sleep_for(std::chrono::nanoseconds(
      std::max<std::int64_t>(0, first + 50 * kMs - system_wall())));  // the restart comes after the first slot
  {
    DurableProcess p(dir.path(), 0s, MissedSlots::skip(), std::chrono::nanoseconds(period), phase);
    EXPECT_EQ(p.engine->recovery_report().tasks_requeued, 1u) << "the pending slot, from the log";
    EXPECT_GE(p.engine->recovery_report().keys_restored, 2u);
    p.scheduler->start();
    const ScheduleStats s = p.stats();
    EXPECT_EQ(s.submit_duplicates, 1u) << "start() re-submitted the pending slot and the key said duplicate";
    EXPECT_EQ(s.submitted, 0u) << "no second firing of that slot";
    p.clock.advance(std::chrono::nanoseconds(first + period - p.wall.now_ns() + 1 * kS));
    p.engine->drain();
    EXPECT_EQ(p.runs.slots(), (std::vector<std::int64_t>{first + period})) << "the recovered slot, once";
  }
}

struct PolicyCase {
  const char* name;
  MissedSlots missed;
  std::vector<int> ran;  // slots (in periods after the recovered one) that ran
};

TEST(Schedule, MissedSlotsAfterDowntimeFollowThePolicy) {
  const std::int64_t period = kPeriod;
  const PolicyCase cases[] = {
      {"skip", MissedSlots::skip(1s), {}},
      {"skip with a 60 s grace runs the newest (6 s late)", MissedSlots::skip(60s), {3}},
      {"run_once", MissedSlots::run_once(), {3}},
      {"run_all(2)", MissedSlots::run_all(2), {2, 3}},
      {"run_all(10)", MissedSlots::run_all(10), {0, 1, 2, 3}},
  };
  for (const PolicyCase& c : cases) {
    SCOPED_TRACE(c.name);
    test::TempDir dir;
    const std::int64_t phase = phase_300ms_ahead();
    const std::int64_t pending = fire_first_slot(dir.path(), c.missed, phase) + period;
    // Down for 35 s: the recovered firing of `pending` starts 36 s late; the
    // slots 10, 20 and 30 s after it have come too.
    DurableProcess p(dir.path(), 35s, c.missed, std::chrono::nanoseconds(period), phase);
    const std::int64_t due_in = pending - (p.wall.now_ns() - 35 * kS);
    // + 1 s: the log converts due times with the real wall clock it read at
    // start(), a few ms away from the one this test's clock was set from.
    p.clock.advance(std::chrono::nanoseconds(due_in + 1 * kS));
    p.engine->drain();  // the recovered firing and any catch-up it submits
    std::vector<std::int64_t> want;
    for (int k : c.ran) want.push_back(pending + k * period);
    EXPECT_EQ(p.runs.slots(), want) << p.scheduler->prometheus_text();
    p.scheduler->start();
    EXPECT_EQ(p.stats().next_slot_ns, pending + 4 * period) << "then on with the next slot";
    EXPECT_EQ(p.stats().skipped_missed, 4u - c.ran.size());
  }
}

TEST(Schedule, SlowHandlerDoesNotPileUpFirings) {
  const std::int64_t t0 = 1735689600 * kS + 5 * kMs;
  ManualProcess p(t0);
  auto& [clock, wall, engine, scheduler, runs] = p;
  std::atomic<bool> release{false};
  std::atomic<int> started{0}, running{0}, max_running{0};
  scheduler.register_task("slow", [&](TaskContext& t) {
    runs.add(t, wall);
    const int now_running = running.fetch_add(1) + 1;
    max_running.store(std::max(max_running.load(), now_running));
    started.fetch_add(1);
    if (started.load() == 1) {
      while (!release.load()) std::this_thread::sleep_for(100us);
    }
    running.fetch_sub(1);
  });
  scheduler.add("every-10ms", Schedule::every(10ms), "slow");
  engine.start();
  scheduler.start();
  clock.advance(5ms);
  ASSERT_TRUE(test::eventually([&] { return started.load() == 1; }));
  // Five more slots pass while the first firing runs.
  for (int i = 0; i < 5; ++i) {
    clock.advance(10ms);
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(started.load(), 1) << "no firing started while the previous one ran";
  EXPECT_EQ(scheduler.stats()[0].submitted, 1u) << "and none was even submitted: nothing piles up";
  release.store(true);
  ASSERT_TRUE(test::eventually([&] { return started.load() == 2; }));
  engine.drain();
  EXPECT_EQ(max_running.load(), 1);
  // The newest slot (within the default 60 s grace) ran at once; the four
  // between were missed.
  EXPECT_EQ(runs.slots(), (std::vector<std::int64_t>{t0 + 10 * kMs - 5 * kMs + 0, t0 + 55 * kMs}));
  const ScheduleStats s = scheduler.stats()[0];
  EXPECT_EQ(s.skipped_missed, 4u);
  EXPECT_EQ(s.next_slot_ns, t0 + 65 * kMs);
}

TEST(Schedule, AFiringOfARemovedScheduleIsDroppedAfterARestart) {
  test::TempDir dir;
  const std::int64_t phase = phase_300ms_ahead();
  const std::int64_t pending = fire_first_slot(dir.path(), MissedSlots::skip(), phase) + kPeriod;
  DurableProcess p(dir.path(), 0s, MissedSlots::skip(), std::chrono::nanoseconds(kPeriod), phase, false);
  EXPECT_EQ(p.engine->recovery_report().tasks_requeued, 1u);
  p.scheduler->start();
  p.clock.advance(std::chrono::nanoseconds(pending - p.wall.now_ns() + 1 * kS));
  p.engine->drain();
  EXPECT_EQ(p.runs.size(), 0u) << "the handler did not run for a schedule no longer added";
  EXPECT_NE(p.scheduler->prometheus_text().find("brisk_schedule_dropped_total 1"), std::string::npos);
  EXPECT_EQ(p.engine->stats().pending_timers, 0u) << "and nothing was submitted after it";
}

TEST(Schedule, ARefusedNextSlotIsRetriedUntilAccepted) {
  ManualClock clock;
  const std::int64_t t0 = 1735689600 * kS + 3 * kS;
  ManualWall wall(clock, t0);
  EngineConfig c = manual_config(clock);
  c.max_named_tasks = 1;  // the firing that ends still holds the only record
  Engine engine(c);
  Scheduler scheduler(engine, SchedulerConfig{std::chrono::hours(1), &wall});
  Runs runs;
  scheduler.register_task("job", [&](TaskContext& t) { runs.add(t, wall); });
  scheduler.add("every-10s", Schedule::every(10s), "job");
  engine.start();
  scheduler.start();
  clock.advance(7s);
  engine.drain();
  ASSERT_EQ(runs.size(), 1u);
  ASSERT_TRUE(test::eventually([&] { return scheduler.stats()[0].next_slot_ns == t0 + 17 * kS; }))
      << "the retry thread submits it once the record is free";
  EXPECT_GE(scheduler.stats()[0].submit_refused, 1u);
  clock.advance(10s);
  engine.drain();
  EXPECT_EQ(runs.slots(), (std::vector<std::int64_t>{t0 + 7 * kS, t0 + 17 * kS}));
}

TEST(Schedule, StopSubmitsTheNextSlotOfAFiringStillRunning) {
  const std::int64_t t0 = 1735689600 * kS + 3 * kS;
  ManualProcess p(t0);
  auto& [clock, wall, engine, scheduler, runs] = p;
  std::atomic<bool> release{false};
  scheduler.register_task("job", [&](TaskContext& t) {
    runs.add(t, wall);
    while (!release.load()) std::this_thread::sleep_for(100us);
  });
  scheduler.add("every-10s", Schedule::every(10s), "job");
  engine.start();
  scheduler.start();
  clock.advance(7s);
  ASSERT_TRUE(test::eventually([&] { return runs.size() == 1; }));
  scheduler.stop();  // e.g. before engine.shutdown(), which would refuse the firing's own submission
  EXPECT_EQ(scheduler.stats()[0].next_slot_ns, t0 + 17 * kS);
  release.store(true);
  engine.drain();
  EXPECT_EQ(scheduler.stats()[0].submitted, 2u) << "nothing more once stopped";
  clock.advance(10s);
  engine.drain();
  EXPECT_EQ(runs.size(), 2u) << "a firing already submitted still runs";
}

TEST(Schedule, BadInputIsRefusedWithTheReason) {
  EngineConfig c;
  c.workers = 1;
  c.pin_workers = false;
  c.idempotency_retention = 1h;
  Engine engine(c);
  SchedulerConfig too_far;
  too_far.submit_ahead = 30min;
  try {
    Scheduler s(engine, too_far);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("idempotency_retention"), std::string::npos) << e.what();
  }
  SchedulerConfig ok;
  ok.submit_ahead = 10min;
  Scheduler scheduler(engine, ok);
  scheduler.register_task("job", [](TaskContext&) {});
  engine.register_task("plain", [](TaskContext&) {});
  EXPECT_THROW(scheduler.add("", Schedule::every(1s), "job"), ConfigError);
  EXPECT_THROW(scheduler.add("a\nb", Schedule::every(1s), "job"), ConfigError);
  try {
    scheduler.add("x", Schedule::every(1s), "plain");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("Scheduler::register_task"), std::string::npos) << e.what();
  }
  ScheduleOptions bad;
  bad.missed = MissedSlots::run_all(0);
  EXPECT_THROW(scheduler.add("y", Schedule::every(1s), "job", "", bad), ConfigError);
  scheduler.add("z", Schedule::every(1s), "job");
  EXPECT_THROW(scheduler.add("z", Schedule::every(2s), "job"), ConfigError) << "duplicate name";
}

}  // namespace
}  // namespace brisk

// TimerWheel on simulated time: never early, at most one tick late, across
// every level, cascade and overflow turn; cancel; re-arming from callbacks;
// and random operations checked against a std::multimap model.
#include "timer/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "support/test_seed.hpp"

namespace brisk::detail {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kDay = 86'400'000 * kMs;

std::int64_t ticks_per_level(int level) {
  return std::int64_t{1} << (level * TimerWheel::kSlotBits);
}

// A node that remembers when it fired.
struct Timer : TimerNode {
  std::int64_t fired_at = -1;
  int fire_count = 0;
};

// Advances through `points` (increasing) and checks that the one timer due
// at `due` fires exactly at the first point at or after its tick boundary,
// which is never before due and less than one tick after it.
void expect_fires_on_time(std::int64_t origin, std::int64_t tick, std::int64_t due,
                          const std::vector<std::int64_t>& points) {
  const std::int64_t boundary = origin + (due - origin + tick - 1) / tick * tick;
  ASSERT_GE(boundary, due);
  ASSERT_LT(boundary, due + tick);
  TimerWheel wheel(origin, std::chrono::nanoseconds(tick));
  Timer t;
  wheel.insert(&t, due);
  for (const std::int64_t now : points) {
    wheel.advance(now, [&](TimerNode* n) {
      auto* timer = static_cast<Timer*>(n);
      timer->fired_at = now;
      ++timer->fire_count;
    });
    ASSERT_EQ(t.fire_count, now >= boundary ? 1 : 0) << "due=" << due << " tick=" << tick << " now=" << now;
    if (t.fire_count == 1) break;
  }
  ASSERT_EQ(t.fire_count, 1) << "due=" << due;
  EXPECT_FALSE(TimerWheel::linked(&t));
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_FALSE(wheel.next_due_ns().has_value());
}

// Due offsets (in ticks) at and around every level boundary and beyond the
// top level (the overflow list), as far as the int64 nanosecond range allows.
std::vector<std::int64_t> boundary_offsets(std::int64_t tick) {
  const std::int64_t limit = std::numeric_limits<std::int64_t>::max() / 4 / tick;
  std::vector<std::int64_t> offsets = {1, 2, 63};
  for (int level = 1; level <= TimerWheel::kLevels + 1; ++level) {
    const std::int64_t b = ticks_per_level(level);
    for (const std::int64_t o : {b - 1, b, b + 1, 2 * b - 1, 2 * b, 3 * b + 7}) {
      if (o <= limit) offsets.push_back(o);
    }
  }
  return offsets;
}

class TimerWheelPrecision : public ::testing::TestWithParam<std::int64_t> {};

TEST_P(TimerWheelPrecision, NeverEarlyAtMostOneTickLateAtEveryLevelBoundary) {
  const std::int64_t tick = GetParam();
  const std::int64_t origin = 1'000'000'007;  // not a multiple of any tick
  for (const std::int64_t offset_ticks : boundary_offsets(tick)) {
    // Due on a tick boundary, just after one, and just before one.
    for (const std::int64_t skew : {std::int64_t{0}, std::int64_t{1}, tick - 1}) {
      const std::int64_t due = origin + offset_ticks * tick + skew;
      // Jump near the due time through a few far points (which cascade), then
      // walk in sub-tick steps past due + tick.
      std::vector<std::int64_t> points;
      for (const std::int64_t fraction : {8, 4, 2}) points.push_back(origin + (due - origin) / fraction);
      points.push_back(due - tick - 1);
      for (std::int64_t now = due - tick; now <= due + 2 * tick; now += std::max<std::int64_t>(1, tick / 3)) {
        points.push_back(now);
      }
      std::sort(points.begin(), points.end());
      points.erase(std::remove_if(points.begin(), points.end(), [&](std::int64_t p) { return p < origin; }),
                   points.end());
      expect_fires_on_time(origin, tick, due, points);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(TimerWheelPrecision, OneBigJumpFiresEverythingDue) {
  const std::int64_t tick = GetParam();
  const std::int64_t origin = 5;
  for (const std::int64_t offset_ticks : boundary_offsets(tick)) {
    const std::int64_t due = origin + offset_ticks * tick - 1;
    expect_fires_on_time(origin, tick, due, {due - 1, due + tick - 1});
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Ticks, TimerWheelPrecision,
                         ::testing::Values(std::int64_t{1'000}, kMs, 7 * kMs, 1'000 * kMs),
                         [](const auto& info) { return std::to_string(info.param) + "ns"; });

TEST(TimerWheel, DaysAheadFireOnTheirTick) {
  const std::int64_t origin = 0;
  for (const std::int64_t days : {1, 7, 30, 365, 800, 3650}) {
    const std::int64_t due = origin + days * kDay + 123'456;
    expect_fires_on_time(origin, kMs, due, {due / 3, due - 1, due, due + kMs - 1});
    if (HasFatalFailure()) return;
  }
}

// The timer thread's loop: sleep until next_due_ns(), advance, repeat.
TEST(TimerWheel, SleepingUntilNextDueNeverOversleepsAndWakesAtMostOncePerLevel) {
  for (const std::int64_t due : {std::int64_t{5} * kMs + 1, 3 * kDay + 17, 1000 * kDay}) {
    TimerWheel wheel(0, 1ms);
    Timer t;
    wheel.insert(&t, due);
    int wakeups = 0;
    std::int64_t now = 0;
    while (t.fire_count == 0) {
      const auto next = wheel.next_due_ns();
      ASSERT_TRUE(next.has_value());
      ASSERT_GT(*next, now) << "a wake-up that changes nothing";
      ASSERT_LT(*next, due + kMs) << "would oversleep";
      now = *next;
      ++wakeups;
      wheel.advance(now, [&](TimerNode*) {
        t.fired_at = now;
        ++t.fire_count;
      });
    }
    EXPECT_GE(t.fired_at, due);
    EXPECT_LE(wakeups, TimerWheel::kLevels + 1) << "due=" << due;
    EXPECT_FALSE(wheel.next_due_ns().has_value()) << "an empty wheel needs no wake-up";
  }
}

TEST(TimerWheel, PastDueFiresAtTheNextAdvance) {
  TimerWheel wheel(1'000 * kMs, 1ms);
  wheel.advance(2'000 * kMs, [](TimerNode*) {});
  Timer t;
  wheel.insert(&t, 3);
  EXPECT_EQ(wheel.next_due_ns(), 2'000 * kMs) << "already reached: do not sleep";
  EXPECT_EQ(wheel.advance(2'000 * kMs, [](TimerNode*) {}), 1u);
  EXPECT_FALSE(TimerWheel::linked(&t));
}

TEST(TimerWheel, FarFutureAndOverflowDoNotOverflow) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  TimerWheel wheel(-kDay, 1s);
  Timer never;
  wheel.insert(&never, kMax);
  const auto next = wheel.next_due_ns();
  ASSERT_TRUE(next.has_value());
  EXPECT_GT(*next, 0);
  EXPECT_EQ(wheel.advance(kMax - 1'000'000'000, [](TimerNode*) {}), 0u);
  EXPECT_TRUE(TimerWheel::linked(&never));
  EXPECT_TRUE(wheel.cancel(&never));
}

TEST(TimerWheel, CancelBeforeFireAndCancelOfFiredNode) {
  TimerWheel wheel(0, 1ms);
  Timer keep;
  Timer drop;
  Timer never_inserted;
  wheel.insert(&keep, 10 * kMs);
  wheel.insert(&drop, 10 * kMs);
  EXPECT_EQ(wheel.size(), 2u);
  EXPECT_TRUE(wheel.cancel(&drop));
  EXPECT_FALSE(wheel.cancel(&drop)) << "cancelling twice";
  EXPECT_FALSE(wheel.cancel(&never_inserted));
  EXPECT_EQ(wheel.size(), 1u);
  std::vector<TimerNode*> fired;
  wheel.advance(10 * kMs, [&](TimerNode* n) { fired.push_back(n); });
  EXPECT_EQ(fired, std::vector<TimerNode*>{&keep});
  EXPECT_FALSE(wheel.cancel(&keep)) << "already fired";
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheel, CancelOfLastNodeInAHighSlotLeavesNoWakeUp) {
  TimerWheel wheel(0, 1ms);
  Timer t;
  wheel.insert(&t, 2 * kDay);
  ASSERT_TRUE(wheel.next_due_ns().has_value());
  wheel.cancel(&t);
  EXPECT_FALSE(wheel.next_due_ns().has_value());
}

TEST(TimerWheel, CallbackMayCancelANodeDueInTheSameBatch) {
  TimerWheel wheel(0, 1ms);
  Timer first;
  Timer second;
  wheel.insert(&first, 100 * kMs);  // level 1: both arrive through one cascade
  wheel.insert(&second, 100 * kMs);
  std::vector<TimerNode*> fired;
  wheel.advance(200 * kMs, [&](TimerNode* n) {
    fired.push_back(n);
    wheel.cancel(n == &first ? &second : &first);
  });
  EXPECT_EQ(fired.size(), 1u);
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_FALSE(TimerWheel::linked(&first));
  EXPECT_FALSE(TimerWheel::linked(&second));
}

TEST(TimerWheel, RearmFromCallbackFiresPeriodically) {
  TimerWheel wheel(0, 1ms);
  Timer periodic;
  wheel.insert(&periodic, 10 * kMs);
  std::vector<std::int64_t> due_times;
  // One jump over ten periods: each re-armed occurrence is due by now and
  // fires in the same advance, in order.
  wheel.advance(100 * kMs, [&](TimerNode* n) {
    due_times.push_back(n->due_ns);
    wheel.insert(n, n->due_ns + 10 * kMs);
  });
  std::vector<std::int64_t> expected;
  for (std::int64_t t = 10; t <= 100; t += 10) expected.push_back(t * kMs);
  EXPECT_EQ(due_times, expected);
  EXPECT_TRUE(TimerWheel::linked(&periodic));
  EXPECT_EQ(wheel.next_due_ns(), 110 * kMs);
}

TEST(TimerWheel, RearmIntoThePastWaitsForTheNextAdvance) {
  TimerWheel wheel(0, 1ms);
  Timer t;
  wheel.insert(&t, 1 * kMs);
  int calls = 0;
  const auto rearm_in_past = [&](TimerNode* n) {
    ++calls;
    if (calls == 1) wheel.insert(n, 0);
  };
  EXPECT_EQ(wheel.advance(5 * kMs, rearm_in_past), 1u) << "no loop within one advance";
  EXPECT_EQ(wheel.advance(5 * kMs, rearm_in_past), 1u);
  EXPECT_EQ(calls, 2);
}

TEST(TimerWheel, AMillionTimersInsertedAndCancelledLeaveNothing) {
  const std::uint64_t seed = test::test_seed();
  std::mt19937_64 rng(seed);
  TimerWheel wheel(0, 1ms);
  std::vector<Timer> timers(1'000'000);
  std::uniform_int_distribution<std::int64_t> due(-kMs, 5 * 365 * kDay);  // past, every level, overflow
  for (Timer& t : timers) wheel.insert(&t, due(rng));
  EXPECT_EQ(wheel.size(), timers.size());
  wheel.advance(3 * kDay, [](TimerNode*) {});  // cascade some of them first
  const std::size_t left = wheel.size();
  std::vector<Timer*> order;
  for (Timer& t : timers) {
    if (TimerWheel::linked(&t)) order.push_back(&t);
  }
  ASSERT_EQ(order.size(), left);
  std::shuffle(order.begin(), order.end(), rng);
  for (Timer* t : order) ASSERT_TRUE(wheel.cancel(t));
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_FALSE(wheel.next_due_ns().has_value());
  for (const Timer& t : timers) ASSERT_FALSE(TimerWheel::linked(&t));
  EXPECT_EQ(wheel.advance(std::numeric_limits<std::int64_t>::max(), [](TimerNode*) {}), 0u);
}

// The model: a timer fires at the first advance whose tick (now rounded down
// to a boundary) reaches its due tick (due rounded up), or at the next
// advance if it was already due when inserted.
TEST(TimerWheel, RandomOperationsMatchAMultimapModel) {
  const std::uint64_t seed = test::test_seed();
  std::mt19937_64 rng(seed);
  const std::int64_t tick = std::uniform_int_distribution<std::int64_t>(1, 3)(rng) * kMs / 2;
  const std::int64_t origin = std::uniform_int_distribution<std::int64_t>(-kDay, kDay)(rng);
  TimerWheel wheel(origin, std::chrono::nanoseconds(tick));
  const auto floor_tick = [&](std::int64_t ns) { return ns <= origin ? 0 : (ns - origin) / tick; };
  const auto ceil_tick = [&](std::int64_t ns) { return ns <= origin ? 0 : (ns - origin + tick - 1) / tick; };

  std::vector<Timer> timers(2'000);
  std::multimap<std::int64_t, Timer*> model;  // fire tick -> timer
  std::map<Timer*, std::multimap<std::int64_t, Timer*>::iterator> where;
  std::int64_t now = origin;
  std::int64_t wheel_tick = 0;

  const auto random_due = [&] {
    switch (rng() % 5) {
      case 0: return now - static_cast<std::int64_t>(rng() % (100 * kMs));        // past
      case 1: return now + static_cast<std::int64_t>(rng() % (64 * tick));        // level 0
      case 2: return now + static_cast<std::int64_t>(rng() % (300'000 * tick));   // levels 1..3
      case 3: return now + static_cast<std::int64_t>(rng() % (ticks_per_level(6) * tick));  // any level
      default: return now + static_cast<std::int64_t>(rng() % (3 * ticks_per_level(6) * tick));  // overflow
    }
  };
  const auto add_to_model = [&](Timer* t, std::int64_t due) {
    where[t] = model.emplace(std::max(ceil_tick(due), wheel_tick), t);
  };

  for (int step = 0; step < 200'000; ++step) {
    Timer* t = &timers[rng() % timers.size()];
    const unsigned op = rng() % 10;
    if (op < 5) {
      if (TimerWheel::linked(t)) continue;
      const std::int64_t due = random_due();
      wheel.insert(t, due);
      add_to_model(t, due);
    } else if (op < 7) {
      const bool pending = where.count(t) != 0;
      ASSERT_EQ(wheel.cancel(t), pending) << "step " << step;
      if (pending) {
        model.erase(where[t]);
        where.erase(t);
      }
    } else {
      const unsigned jump = rng() % 2000;
      if (jump < 800) {
        now += static_cast<std::int64_t>(rng() % (2 * tick));
      } else if (jump < 1600) {
        now += static_cast<std::int64_t>(rng() % (5'000 * tick));
      } else if (jump < 1999) {
        now += static_cast<std::int64_t>(rng() % (ticks_per_level(4) * tick));
      } else if (now - origin < (std::int64_t{1} << 61)) {  // whole top-level turns, while int64 lasts
        now += static_cast<std::int64_t>(rng() % (2 * ticks_per_level(6) * tick));
      }
      const std::int64_t target = floor_tick(now);
      std::vector<Timer*> expected;
      for (auto it = model.begin(); it != model.end() && it->first <= target; it = model.erase(it)) {
        expected.push_back(it->second);
        where.erase(it->second);
      }
      wheel_tick = target;
      std::vector<Timer*> fired;
      std::vector<std::pair<Timer*, std::int64_t>> rearmed;
      wheel.advance(now, [&](TimerNode* n) {
        auto* timer = static_cast<Timer*>(n);
        ASSERT_LE(timer->due_ns, now) << "fired early, step " << step;
        fired.push_back(timer);
        if (rng() % 4 == 0) {  // re-arm, strictly after now: fires in a later advance
          const std::int64_t due = now + 1 + static_cast<std::int64_t>(rng() % (1'000 * tick));
          wheel.insert(n, due);
          rearmed.emplace_back(timer, due);
        }
      });
      for (const auto& [timer, due] : rearmed) add_to_model(timer, due);
      std::sort(expected.begin(), expected.end());
      std::sort(fired.begin(), fired.end());
      ASSERT_EQ(fired, expected) << "step " << step << " now " << now;
    }
    ASSERT_EQ(wheel.size(), model.size()) << "step " << step;
  }
}

}  // namespace
}  // namespace brisk::detail

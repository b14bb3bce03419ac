// TimerWheel on one thread, simulated time: insert+cancel pairs, expiry with
// re-arming in steady state, the cost of a cascade, and the memory of 10
// million pending timers.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <random>
#include <vector>

#include "timer/timer_wheel.hpp"

namespace {

using brisk::detail::TimerNode;
using brisk::detail::TimerWheel;

constexpr std::int64_t kMs = 1'000'000;

// Delays like the engine's: retry backoffs and delays from 1 ms to an hour,
// so every level from 0 to 4 takes its share.
std::vector<std::int64_t> random_delays(std::size_t count, std::int64_t max_ns, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> delay(kMs, max_ns);
  std::vector<std::int64_t> delays(count);
  for (auto& d : delays) d = delay(rng);
  return delays;
}

// One insert and one cancel per iteration; the cancelled node was inserted
// range(0) iterations earlier, so that many timers stay pending.
void BM_TimerInsertCancel(benchmark::State& state) {
  const auto pending = static_cast<std::size_t>(state.range(0));
  const std::vector<std::int64_t> delays = random_delays(1 << 16, 3'600'000 * kMs, 1);
  TimerWheel wheel(0);
  std::vector<TimerNode> nodes(pending + 1);
  std::size_t insert_at = 0;
  std::size_t delay_at = 0;
  for (auto _ : state) {
    wheel.insert(&nodes[insert_at], delays[delay_at++ & 0xffff]);
    if (++insert_at == nodes.size()) insert_at = 0;
    wheel.cancel(&nodes[insert_at]);  // the oldest pending node
  }
  benchmark::DoNotOptimize(wheel.size());
  state.SetItemsProcessed(state.iterations());  // pairs
  state.counters["ops_per_second"] =
      benchmark::Counter(2.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TimerInsertCancel)->Arg(0)->Arg(1 << 16)->Arg(1 << 20);

// Steady state: range(0) timers pending with delays up to 10 s; each
// iteration advances one 1 ms tick, and every expired timer is re-armed from
// its callback. items_per_second counts expiries (each with its re-insert).
void BM_TimerExpireRearm(benchmark::State& state) {
  const auto pending = static_cast<std::size_t>(state.range(0));
  const std::vector<std::int64_t> delays = random_delays(1 << 16, 10'000 * kMs, 2);
  TimerWheel wheel(0);
  std::vector<TimerNode> nodes(pending);
  std::size_t delay_at = 0;
  for (auto& node : nodes) wheel.insert(&node, delays[delay_at++ & 0xffff]);
  std::int64_t now = 0;
  std::size_t fired = 0;
  for (auto _ : state) {
    now += kMs;
    fired += wheel.advance(now, [&](TimerNode* node) { wheel.insert(node, now + delays[delay_at++ & 0xffff]); });
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(fired));
  state.counters["expired_per_tick"] = static_cast<double>(fired) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_TimerExpireRearm)->Arg(1 << 16)->Arg(1 << 20);

// The burst behind a cascade: range(0) timers, linked in random memory
// order (as task records are), all due in one level-2 slot; each iteration
// reaches that slot and moves them all down a level. items_per_second is
// timers cascaded: a cascade of N timers delays the expiries due at that
// tick by N / items_per_second.
void BM_TimerCascade(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  std::vector<TimerNode> nodes(count);
  std::vector<TimerNode*> order(count);
  for (std::size_t i = 0; i < count; ++i) order[i] = &nodes[i];
  std::shuffle(order.begin(), order.end(), std::mt19937_64(4));
  constexpr std::int64_t kSlotTicks = 4096;  // one level-2 slot at 1 ms
  for (auto _ : state) {
    state.PauseTiming();
    TimerWheel wheel(0);
    for (std::size_t i = 0; i < count; ++i) {
      wheel.insert(order[i], (kSlotTicks + 1 + static_cast<std::int64_t>(i % (kSlotTicks - 1))) * kMs);
    }
    state.ResumeTiming();
    benchmark::DoNotOptimize(wheel.advance(kSlotTicks * kMs, [](TimerNode*) {}));
    state.PauseTiming();
    for (TimerNode* node : order) wheel.cancel(node);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * count));
}
BENCHMARK(BM_TimerCascade)->Arg(1 << 14)->Arg(1 << 20)->Unit(benchmark::kMicrosecond);

std::size_t resident_bytes() {
  std::size_t pages_total = 0;
  std::size_t pages_resident = 0;
  std::ifstream("/proc/self/statm") >> pages_total >> pages_resident;
  return pages_resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// 10 million pending timers due within a day: the resident memory they add
// (nodes plus wheel) per timer, and the rate of inserting them into a
// wheel that grows to that size.
void BM_TimerTenMillionPending(benchmark::State& state) {
  constexpr std::size_t kTimers = 10'000'000;
  const std::vector<std::int64_t> delays = random_delays(1 << 16, 86'400'000 * kMs, 3);
  for (auto _ : state) {
    state.PauseTiming();
    const std::size_t before = resident_bytes();
    auto* wheel = new TimerWheel(0);
    std::vector<TimerNode> nodes(kTimers);
    state.ResumeTiming();
    for (std::size_t i = 0; i < kTimers; ++i) wheel->insert(&nodes[i], delays[i & 0xffff] + static_cast<std::int64_t>(i));
    const std::size_t after = resident_bytes();
    state.counters["bytes_per_timer"] = static_cast<double>(after - before) / kTimers;
    state.counters["pending"] = static_cast<double>(wheel->size());
    state.PauseTiming();
    for (auto& node : nodes) wheel->cancel(&node);
    delete wheel;
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kTimers));
  state.counters["sizeof_node"] = sizeof(TimerNode);
  state.counters["sizeof_wheel"] = sizeof(TimerWheel);
}
BENCHMARK(BM_TimerTenMillionPending)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

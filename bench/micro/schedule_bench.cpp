// Periodic tasks (brisk::Scheduler), under load:
// * BM_ScheduleFiringLateness/0 (memory) and /1 (durable, the log in
//   $BRISK_WAL_BENCH_DIR or /tmp): 100 schedules every 20 ms, phases spread
//   over the period, for 2 s, while a background producer keeps the workers
//   about half busy (as BM_DelayedFiringLateness). Reports how late each
//   firing's handler started after its slot (wall clock), p50/p99/max in ms
//   and p99 in timer ticks (target: within one tick), how many firings ran
//   of the slots that came, and how many slots were missed (the default
//   policy, skip: a firing that starts after its schedule's next slot has
//   come does not run; the newest slot runs instead).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <unistd.h>

#include "brisk/brisk.hpp"
#include "brisk/schedule.hpp"

namespace {

using namespace std::chrono_literals;

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void spin_for(std::int64_t ns) {
  const brisk::SteadyClock& c = brisk::SteadyClock::instance();
  for (const std::int64_t until = c.now_ns() + ns; c.now_ns() < until;) {
  }
}

double quantile(std::vector<std::int64_t>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[std::min(v.size() - 1, static_cast<std::size_t>(q * double(v.size())))]);
}

void BM_ScheduleFiringLateness(benchmark::State& state) {
  constexpr int kSchedules = 100;
  constexpr auto kPeriod = 20ms;
  constexpr auto kRun = 2s;
  const bool durable = state.range(0) != 0;
  for (auto _ : state) {
    std::string dir;
    brisk::EngineConfig config;  // default tick: 1 ms
    if (durable) {
      const char* base = std::getenv("BRISK_WAL_BENCH_DIR");
      dir = std::string(base ? base : "/tmp") + "/brisk-schedule-bench-" + std::to_string(::getpid());
      std::filesystem::remove_all(dir);
      config.durability.wal_dir = dir;
    }
    const double tick_ns = static_cast<double>(config.timer_tick.count());
    std::mutex mutex;
    std::vector<std::int64_t> late;
    late.reserve(20'000);
    std::uint64_t skipped = 0;
    {
      brisk::Engine engine(config);
      brisk::Scheduler scheduler(engine);
      scheduler.register_task("tick", [&](brisk::TaskContext& t) {
        const std::int64_t now = wall_ns();
        const std::string_view key = t.idempotency_key();
        const std::int64_t slot = std::stoll(std::string(key.substr(key.rfind('/') + 1)));
        std::lock_guard lock(mutex);
        late.push_back(now - slot);
      });
      for (int i = 0; i < kSchedules; ++i)
        scheduler.add("s" + std::to_string(i), brisk::Schedule::every(kPeriod, kPeriod * i / kSchedules), "tick");
      engine.start();
      std::atomic<bool> stop{false};
      std::thread load([&] {  // ~1 us closures, ~100 per 200 us: about half a core
        while (!stop.load(std::memory_order_relaxed)) {
          for (int k = 0; k < 100; ++k) engine.post([] { spin_for(1'000); });
          std::this_thread::sleep_for(200us);
        }
      });
      scheduler.start();
      std::this_thread::sleep_for(kRun);
      scheduler.stop();
      for (const brisk::ScheduleStats& s : scheduler.stats()) skipped += s.skipped_missed;
      stop.store(true);
      load.join();
      engine.shutdown();
    }
    if (durable) std::filesystem::remove_all(dir);
    state.PauseTiming();
    const double expected = double(kSchedules) * double(kRun / kPeriod);
    state.counters["firings"] = static_cast<double>(late.size());
    state.counters["of_slots"] = static_cast<double>(late.size()) / expected;
    state.counters["missed"] = static_cast<double>(skipped);
    state.counters["p50_ms"] = quantile(late, 0.50) / 1e6;
    state.counters["p99_ms"] = quantile(late, 0.99) / 1e6;
    state.counters["max_ms"] = late.empty() ? 0 : static_cast<double>(late.back()) / 1e6;
    state.counters["p99_ticks"] = quantile(late, 0.99) / tick_ns;
    state.ResumeTiming();
  }
}
BENCHMARK(BM_ScheduleFiringLateness)->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

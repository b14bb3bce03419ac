// A rate-limited task type with a large backlog (issue 19, item 10).
// BM_RateLimitedBacklog/<rate>/<backlog>: submits `backlog` tasks of a type
// limited to `rate` per second, then for 2 s of real time submits 100
// tasks/s of another type at the same priority. Reports the achieved rate
// of the limited type (target: within a few percent of `rate` at any
// backlog), the CPU the process used per second of wall time (waiting for
// a rate should cost next to nothing), the jobs workers ran per limited
// task that ran (1: each went through a ring once), and the other type's
// refusals (target: 0).
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "brisk/brisk.hpp"

namespace {

using namespace std::chrono_literals;

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void BM_RateLimitedBacklog(benchmark::State& state) {
  const double rate = static_cast<double>(state.range(0));
  const auto backlog = static_cast<int>(state.range(1));
  for (auto _ : state) {
    brisk::EngineConfig c;
    c.workers = 2;
    c.ring_capacity = 1024;
    c.max_named_tasks = static_cast<std::uint32_t>(backlog) + 4096;
    brisk::Engine engine(c);
    std::atomic<std::int64_t> ran{0};
    brisk::TaskTypeOptions limited;
    limited.rate_per_second = rate;
    engine.register_task("limited", [&](brisk::TaskContext&) { ran.fetch_add(1, std::memory_order_relaxed); },
                         limited);
    engine.register_task("other", [](brisk::TaskContext&) {});
    engine.start();
    for (int i = 0; i < backlog; ++i) {
      if (!engine.submit("limited", "")) state.SkipWithError("backlog submission refused");
    }
    const std::uint64_t executed_before = engine.stats().executed;
    const double cpu_before = process_cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    const std::int64_t ran_before = ran.load();
    std::int64_t other_refused = 0, other_sent = 0;
    while (std::chrono::steady_clock::now() - start < 2s) {
      ++other_sent;
      if (!engine.submit("other", "")) ++other_refused;
      std::this_thread::sleep_for(10ms);
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::int64_t ran_in_window = ran.load() - ran_before;
    const double cpu = process_cpu_seconds() - cpu_before;
    const std::uint64_t executed = engine.stats().executed - executed_before;
    state.counters["achieved_per_s"] = static_cast<double>(ran_in_window) / wall;
    state.counters["rate_ratio"] = static_cast<double>(ran_in_window) / wall / rate;
    state.counters["cpu_per_wall_s"] = cpu / wall;
    state.counters["jobs_per_task"] =
        static_cast<double>(executed - static_cast<std::uint64_t>(other_sent - other_refused)) /
        static_cast<double>(std::max<std::int64_t>(ran_in_window, 1));
    state.counters["other_refused"] = static_cast<double>(other_refused);
    engine.shutdown();  // the rest of the backlog waits on the timer: not run
  }
}
BENCHMARK(BM_RateLimitedBacklog)
    ->Args({1000, 3000})
    ->Args({5000, 40000})
    ->Args({1000, 200000})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

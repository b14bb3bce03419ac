// Delayed named tasks through the whole engine (issue 4):
// * BM_DelayedFiringLateness: 20k tasks due at random times over 0.5 s while
//   a background producer keeps the workers about half busy; reports how
//   late each started after its due time, in ms and in timer ticks (target:
//   p99 within one tick).
// * BM_TenMillionDelayedTasks: memory of 10M pending delayed tasks (16-byte
//   payloads, due in an hour): RSS growth in GiB and bytes per task
//   (target: under 1.5 GiB).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include <sys/wait.h>
#include <unistd.h>

#include "brisk/brisk.hpp"

namespace {

using namespace std::chrono_literals;

std::int64_t steady_ns() { return brisk::SteadyClock::instance().now_ns(); }

void spin_for(std::int64_t ns) {
  for (const std::int64_t until = steady_ns() + ns; steady_ns() < until;) {
  }
}

double quantile(std::vector<std::int64_t>& v, double q) {
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[std::min(v.size() - 1, static_cast<std::size_t>(q * double(v.size())))]);
}

void BM_DelayedFiringLateness(benchmark::State& state) {
  constexpr std::size_t kTasks = 20'000;
  constexpr std::int64_t kSpreadNs = 500'000'000;
  for (auto _ : state) {
    brisk::EngineConfig config;  // default tick: 1 ms
    const double tick_ns = static_cast<double>(config.timer_tick.count());
    brisk::Engine engine(config);
    std::vector<std::int64_t> due(kTasks), late(kTasks, -1);
    std::atomic<std::size_t> ran{0};
    const brisk::TaskType type = engine.register_task("timer", [&](brisk::TaskContext& t) {
      std::size_t i = 0;
      std::from_chars(t.payload().data(), t.payload().data() + t.payload().size(), i);
      late[i] = steady_ns() - due[i];
      // release: this task's late[] entry is visible to the acquire below.
      ran.fetch_add(1, std::memory_order_release);
    });
    engine.start();
    std::atomic<bool> stop{false};  // relaxed: a flag; join() orders the end
    std::thread load([&] {  // ~1 us closures, ~100 per 200 us: about half a core
      while (!stop.load(std::memory_order_relaxed)) {
        for (int k = 0; k < 100; ++k) engine.post([] { spin_for(1'000); });
        std::this_thread::sleep_for(200us);
      }
    });
    std::mt19937_64 rng(42);
    const std::int64_t t0 = steady_ns();
    for (std::size_t i = 0; i < kTasks; ++i) {
      due[i] = t0 + 1'000'000 + static_cast<std::int64_t>(rng() % kSpreadNs);
      brisk::TaskOptions o;
      o.run_at_ns = due[i];
      if (!engine.submit(type, std::to_string(i), o)) throw std::runtime_error("delayed submit refused");
    }
    while (ran.load(std::memory_order_acquire) < kTasks) std::this_thread::sleep_for(5ms);
    stop.store(true);
    load.join();
    state.PauseTiming();
    state.counters["p50_ms"] = quantile(late, 0.50) / 1e6;
    state.counters["p99_ms"] = quantile(late, 0.99) / 1e6;
    state.counters["max_ms"] = static_cast<double>(late.back()) / 1e6;
    state.counters["p99_ticks"] = quantile(late, 0.99) / tick_ns;
    state.ResumeTiming();
  }
}
BENCHMARK(BM_DelayedFiringLateness)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

std::int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

// Submits `tasks` delayed tasks to a fresh engine and returns the RSS growth
// in bytes. Runs in a child process, so that memory freed by an earlier
// repetition or benchmark cannot hide the cost.
std::int64_t rss_growth_in_child(std::size_t tasks) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    std::int64_t grown = -1;
    {
      brisk::EngineConfig config;
      config.max_named_tasks = static_cast<std::uint32_t>(tasks);
      brisk::Engine engine(config);
      const brisk::TaskType type = engine.register_task("later", [](brisk::TaskContext&) {});
      engine.start();
      const std::int64_t before = resident_bytes();
      brisk::TaskOptions o;
      o.delay = std::chrono::hours(1);
      std::size_t accepted = 0;
      for (std::size_t i = 0; i < tasks; ++i) accepted += engine.submit(type, "0123456789abcdef", o) ? 1 : 0;
      while (accepted == tasks && engine.stats().pending_timers != tasks) std::this_thread::sleep_for(10ms);
      if (accepted == tasks) grown = resident_bytes() - before;
      if (::write(fds[1], &grown, sizeof grown) != sizeof grown) std::_Exit(2);
    }
    std::_Exit(0);  // the engine's shutdown has run; skip the parent's atexit work
  }
  ::close(fds[1]);
  std::int64_t grown = -1;
  const bool read_ok = ::read(fds[0], &grown, sizeof grown) == sizeof grown;
  ::close(fds[0]);
  ::waitpid(pid, nullptr, 0);
  if (!read_ok || grown < 0) throw std::runtime_error("the child refused a delayed task or died");
  return grown;
}

void BM_TenMillionDelayedTasks(benchmark::State& state) {
  const auto tasks = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    const auto grown = static_cast<double>(rss_growth_in_child(tasks));
    state.counters["rss_gib"] = grown / double(1ull << 30);
    state.counters["bytes_per_task"] = grown / double(tasks);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(tasks) * state.iterations());
}
BENCHMARK(BM_TenMillionDelayedTasks)->Arg(10'000'000)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

// An idle engine must burn no CPU (issue 2: under 1%): after a burst of
// work, its workers spin briefly and then park on a futex. Reports the
// process's CPU time over 2 s of idleness as a percentage of one CPU.
#include <benchmark/benchmark.h>

#include <time.h>

#include <chrono>
#include <thread>

#include "brisk/brisk.hpp"

namespace {

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void BM_IdleEngineCpu(benchmark::State& state) {
  for (auto _ : state) {
    brisk::Engine engine;
    engine.start();
    for (int i = 0; i < 100'000; ++i) engine.post([] {});  // wake everybody up first
    engine.drain();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the spinning end
    const double cpu0 = process_cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.counters["cpu_percent"] = 100.0 * (process_cpu_seconds() - cpu0) / wall;
    state.counters["parks"] = static_cast<double>(engine.stats().parks);
  }
}
BENCHMARK(BM_IdleEngineCpu)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

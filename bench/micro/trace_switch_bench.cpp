// What switching tracing on and off at run time costs post(): empty
// closures posted in rounds of 1024 and drained, per post (the workers'
// side included, since that is where trace events are written).
//   mode 0 (no_rings):  trace_events_per_worker = 0, as before issue 21
//   mode 1 (off):       rings allocated, switch off (trace_from_start = false)
//   mode 2 (on):        switched on for the whole run (drained every 16 rounds)
//   mode 3 (toggling):  start_trace / stop_trace around every other round
// Run with --benchmark_enable_random_interleaving=true and repetitions;
// docs/perf.md has the medians.
#include <benchmark/benchmark.h>

#include <chrono>
#include <sstream>

#include "brisk/brisk.hpp"

namespace {

void BM_PostTraceSwitch(benchmark::State& state) {
  const int mode = static_cast<int>(state.range(0));
  brisk::EngineConfig c;
  c.workers = 2;
  c.observability.trace_events_per_worker = mode == 0 ? 0 : 1 << 16;
  c.observability.trace_from_start = mode == 2;
  brisk::Engine engine(c);
  engine.start();
  constexpr int kRound = 1024;
  std::uint64_t rounds = 0;
  for (auto _ : state) {
    if (mode == 3) {
      if (rounds % 2 == 0) {
        (void)engine.start_trace({std::chrono::seconds(10), 0});
      } else {
        engine.stop_trace();
      }
    }
    for (int i = 0; i < kRound; ++i) (void)engine.post([] {});
    engine.drain();
    if (mode >= 2 && ++rounds % 16 == 0) {  // keep the rings from filling: the drop path is not measured here
      state.PauseTiming();
      std::ostringstream sink;
      engine.write_trace(sink);
      state.ResumeTiming();
    } else if (mode < 2) {
      ++rounds;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kRound);
  state.counters["trace_dropped"] = static_cast<double>(engine.stats().trace_dropped);
}
BENCHMARK(BM_PostTraceSwitch)->Arg(0)->Arg(1)->Arg(2)->Arg(3)->ArgName("mode")->UseRealTime()->MinTime(0.3);

}  // namespace

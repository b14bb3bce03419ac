// Tracing off vs on, per event on the recording worker.
//   Off:        the call site's branch on a null buffer pointer.
//   On:         record() with its steady-clock timestamp; drained every 1024.
//   OnNoClock:  record() of a prebuilt event: the ring's own cost.
//   Full:       record() into a full ring: the drop path.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "trace/trace_buffer.hpp"

namespace {

using brisk::trace::TraceBuffer;
using brisk::trace::TraceEvent;
using brisk::trace::TraceKind;

void BM_TraceOff(benchmark::State& state) {
  TraceBuffer* trace = nullptr;
  benchmark::DoNotOptimize(trace);
  std::uint64_t id = 0;
  for (auto _ : state) {
    if (trace != nullptr) trace->record(TraceKind::kStart, id);
    benchmark::DoNotOptimize(++id);
  }
}
BENCHMARK(BM_TraceOff);

void BM_TraceOn(benchmark::State& state) {
  auto trace = std::make_unique<TraceBuffer>(0, 1 << 12);
  std::vector<TraceEvent> sink;
  sink.reserve(1 << 12);
  std::uint64_t id = 0;
  for (auto _ : state) {
    if (trace != nullptr) trace->record(TraceKind::kStart, id);
    if ((++id & 1023) == 0) {
      trace->drain(sink);
      sink.clear();
    }
  }
  state.counters["dropped"] = static_cast<double>(trace->dropped());
}
BENCHMARK(BM_TraceOn);

void BM_TraceOnNoClock(benchmark::State& state) {
  TraceBuffer trace(0, 1 << 12);
  std::vector<TraceEvent> sink;
  sink.reserve(1 << 12);
  std::uint64_t id = 0;
  for (auto _ : state) {
    trace.record(TraceEvent{id, id, 0, 0, TraceKind::kStart});
    if ((++id & 1023) == 0) {
      trace.drain(sink);
      sink.clear();
    }
  }
}
BENCHMARK(BM_TraceOnNoClock);

void BM_TraceFull(benchmark::State& state) {
  TraceBuffer trace(0, 2);
  trace.record(TraceEvent{0, 0, 0, 0, TraceKind::kStart});
  trace.record(TraceEvent{0, 0, 0, 0, TraceKind::kStart});
  std::uint64_t id = 0;
  for (auto _ : state) benchmark::DoNotOptimize(trace.record(TraceEvent{id, ++id, 0, 0, TraceKind::kStart}));
}
BENCHMARK(BM_TraceFull);

}  // namespace

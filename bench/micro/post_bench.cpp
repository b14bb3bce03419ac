// post(), post_bulk() throughput: producers posting empty tasks to an engine
// with one worker per CPU. items_per_second is tasks accepted and run.
// BM_PostCredits/1 against /0: the cost of credit accounting (issue 3: at
// most 10%). BM_PostTracing/1 against /0: the cost of recording lifecycle
// traces (issue 6: at most 10%).
#include <benchmark/benchmark.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "brisk/brisk.hpp"

namespace {

brisk::Engine& shared_engine() {
  static brisk::Engine* engine = [] {
    auto* e = new brisk::Engine();
    e->start();
    return e;
  }();
  return *engine;
}

void BM_Post(benchmark::State& state) {
  brisk::Engine& engine = shared_engine();
  std::uint64_t posted = 0;
  for (auto _ : state) {
    while (engine.post([] {}) != brisk::SubmitStatus::accepted) std::this_thread::yield();
    ++posted;
  }
  if (state.thread_index() == 0) engine.drain();
  state.SetItemsProcessed(static_cast<std::int64_t>(posted));
}
BENCHMARK(BM_Post)->Threads(1)->Threads(2)->UseRealTime();

// Posts state.iterations() empty tasks from one thread to a fresh engine,
// through a Producer (credits) or not, and waits until they ran. A fixed
// count on a fresh engine each, so that the two sides of a comparison do
// the same work from the same state.
void post_to_fresh_engine(benchmark::State& state, const brisk::EngineConfig& config, bool credits) {
  brisk::Engine engine(config);
  engine.start();
  brisk::Producer producer = engine.make_producer();
  for (auto _ : state) {
    // Out of credits (rejected_backpressure) or rings full: wait for workers.
    if (credits) {
      while (producer.post([] {}) != brisk::SubmitStatus::accepted) std::this_thread::yield();
    } else {
      while (engine.post([] {}) != brisk::SubmitStatus::accepted) std::this_thread::yield();
    }
  }
  engine.drain();
  state.SetItemsProcessed(state.iterations());
  state.counters["trace_dropped"] = static_cast<double>(engine.stats().trace_dropped);
}

// Arg 0: Engine::post; 1: Producer::post (credit accounting on).
void BM_PostCredits(benchmark::State& state) {
  post_to_fresh_engine(state, brisk::EngineConfig{}, state.range(0) != 0);
}
BENCHMARK(BM_PostCredits)->Arg(0)->Arg(1)->Iterations(5'000'000)->UseRealTime();

// Arg 0: tracing off; 1: every worker records submit/start/end events into a
// ring large enough that none is dropped.
void BM_PostTracing(benchmark::State& state) {
  brisk::EngineConfig config;
  if (state.range(0) != 0) config.observability.trace_events_per_worker = 1u << 22;
  post_to_fresh_engine(state, config, false);
}
BENCHMARK(BM_PostTracing)->Arg(0)->Arg(1)->Iterations(1'000'000)->UseRealTime();

void BM_PostBulk(benchmark::State& state) {
  brisk::Engine& engine = shared_engine();
  const auto batch = static_cast<std::size_t>(state.range(0));
  std::vector<void (*)()> tasks(batch, +[] {});
  std::uint64_t posted = 0;
  for (auto _ : state) {
    std::size_t done = 0;
    while (done < batch) {
      done += engine.post_bulk(tasks.begin() + static_cast<std::ptrdiff_t>(done), tasks.end()).accepted;
      if (done < batch) std::this_thread::yield();
    }
    posted += batch;
  }
  engine.drain();
  state.SetItemsProcessed(static_cast<std::int64_t>(posted));
}
BENCHMARK(BM_PostBulk)->Arg(64)->Arg(1024)->UseRealTime();

}  // namespace

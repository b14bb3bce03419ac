// submit() throughput of named tasks kept in memory (Durability::memory): a
// TaskRecord taken from and given back to the TaskTable, the task's state
// transitions, its type's counters, the payload moved in. Against BM_Post,
// what a named task costs over a closure. items_per_second is tasks
// accepted and run.
#include <benchmark/benchmark.h>

#include <string>
#include <thread>

#include "brisk/brisk.hpp"

namespace {

struct NamedEngine {
  brisk::Engine engine;
  brisk::TaskType noop;
  NamedEngine() : noop(engine.register_task("noop", [](brisk::TaskContext&) {})) { engine.start(); }
};

NamedEngine& named_engine() {
  static auto* shared = new NamedEngine();
  return *shared;
}

void BM_SubmitNamed(benchmark::State& state) {
  NamedEngine& named = named_engine();
  brisk::TaskOptions memory;
  memory.durability = brisk::Durability::memory;
  std::uint64_t submitted = 0;
  for (auto _ : state) {
    // Rings full or max_named_tasks in flight: wait for the workers.
    while (!named.engine.submit(named.noop, std::string(), memory)) std::this_thread::yield();
    ++submitted;
  }
  if (state.thread_index() == 0) named.engine.drain();
  state.SetItemsProcessed(static_cast<std::int64_t>(submitted));
}
BENCHMARK(BM_SubmitNamed)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

// post(), post_bulk() throughput: producers posting empty tasks to an engine
// with one worker per CPU. items_per_second is tasks accepted and run.
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

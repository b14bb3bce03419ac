// The MPMC ring alone: push then pop on one thread (the uncontended cost of
// a slot handoff), bulk claims, and a steal-shaped contended case where one
// thread pushes while another takes half-batches.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "ring/mpmc_ring.hpp"

namespace {

using Ring = brisk::detail::MpmcRing<std::uint64_t>;

void BM_RingPushPop(benchmark::State& state) {
  Ring ring(4096);
  std::uint64_t v = 0, out = 0;
  for (auto _ : state) {
    ring.try_push(v);
    ring.try_pop(out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RingPushPop);

// Claims of `batch` items at once on both sides (post_bulk and a worker's
// batch pop): items/s counts items, not claims.
void BM_RingBulk(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  Ring ring(4096);
  std::vector<std::uint64_t> in(batch, 7), out(batch);
  for (auto _ : state) {
    std::size_t pushed = ring.try_push_bulk(in.data(), batch);
    // try_pop_bulk takes half of what it sees: loop until empty.
    while (pushed != 0) pushed -= ring.try_pop_bulk(out.data(), batch);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}
BENCHMARK(BM_RingBulk)->Arg(16)->Arg(64)->Arg(1024);

// One producer thread pushes as fast as it can; the measured thread steals
// batches of up to 16 (half of what is published), as an idle worker does.
void BM_RingStealContended(benchmark::State& state) {
  Ring ring(4096);
  std::atomic<bool> stop{false};  // relaxed: a flag with no data behind it; join() orders the end
  std::thread producer([&] {
    std::uint64_t v = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      if (!ring.try_push(v)) std::this_thread::yield();
    }
  });
  std::uint64_t out[16];
  std::int64_t taken = 0;
  for (auto _ : state) {
    taken += static_cast<std::int64_t>(ring.try_pop_bulk(out, 16));
    benchmark::DoNotOptimize(out);
  }
  stop.store(true, std::memory_order_relaxed);
  producer.join();
  state.SetItemsProcessed(taken);
  state.counters["items_per_steal"] = static_cast<double>(taken) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_RingStealContended)->UseRealTime();

}  // namespace

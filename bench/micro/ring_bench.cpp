// The MPMC ring alone: push then pop on one thread (the uncontended cost of
// a slot handoff), bulk claims, and a steal-shaped contended case where one
// thread pushes while another takes half-batches.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
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

// Does 128-byte spacing help a contended pair on this CPU? Two threads each
// write their own counter of a pair (as a ring's producer writes the tail
// while its consumer writes the head, or two counter stripes): 64 bytes
// apart they are on adjacent lines, which the L2's adjacent-line
// prefetcher may pull in pairs; 128 apart they are not. Compare the
// variants in one run, interleaved (--benchmark_enable_random_interleaving).
template <std::size_t Spacing>
struct SpacedPair {
  alignas(Spacing) std::atomic<std::uint64_t> first{0};
  alignas(Spacing) std::atomic<std::uint64_t> second{0};
};
static_assert(offsetof(SpacedPair<64>, second) == 64 && offsetof(SpacedPair<128>, second) == 128);

template <std::size_t Spacing>
void BM_ContendedPair(benchmark::State& state) {
  auto pair = std::make_unique<SpacedPair<Spacing>>();
  std::atomic<bool> stop{false};  // relaxed: a flag with no data behind it; join() orders the end
  std::thread other([&] {
    // relaxed: only the line's traffic is measured, no data is handed over.
    while (!stop.load(std::memory_order_relaxed)) pair->second.fetch_add(1, std::memory_order_relaxed);
  });
  for (auto _ : state) pair->first.fetch_add(1, std::memory_order_relaxed);
  stop.store(true, std::memory_order_relaxed);
  other.join();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ContendedPair<64>)->UseRealTime();
BENCHMARK(BM_ContendedPair<128>)->UseRealTime();

}  // namespace

// Boxed closures: where a post() closure with more than Job::kInlineSize
// bytes of captures lives, and what that costs (issue 20 item 3). One
// producer posts range(1)-byte captures to a fresh engine (one worker per
// CPU); items_per_second counts tasks accepted and run. range(0) picks the
// box:
//   0 the capture boxed by post() itself (detail/job.hpp: the box pool);
//   1 operator new, 2 glibc's malloc (__libc_malloc, whatever replaced
//     malloc), 3 a mimalloc heap per producer (mi_heap_malloc_small, mi_free),
//     4 the box pool called directly:
//     each boxed by hand, the block's address and its free function posted
//     as a 16-byte inline closure, so all of them run in one program.
// BM_InlinePost (a 32-byte capture in the ring slot) is the rate to beat.
// Run with --benchmark_enable_random_interleaving=true and repetitions so
// the variants interleave on a shared machine.
#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <new>
#include <thread>

#include "brisk/brisk.hpp"

#if BRISK_BENCH_MIMALLOC
#include <mimalloc.h>
#endif

extern "C" void* __libc_malloc(std::size_t);
extern "C" void __libc_free(void*);

namespace {

constexpr std::int64_t kTasks = 1'000'000;

template <std::size_t N>
struct Capture {
  std::array<unsigned char, N> bytes{};
  void operator()() const { asm volatile("" : : "r"(bytes[N - 1])); }
};

// A box made by hand: the capture's bytes at `block`, freed by `release`
// on the worker after it read them.
struct HandBox {
  unsigned char* block;
  std::size_t size;
  void (*release)(void*);
  void operator()() const {
    asm volatile("" : : "r"(block[size - 1]));
    release(block);
  }
};

void* new_block(std::size_t n) { return ::operator new(n); }
void delete_block(void* p) { ::operator delete(p); }
#if BRISK_BENCH_MIMALLOC
void* mi_block(std::size_t n) {
  thread_local mi_heap_t* heap = mi_heap_new();
  return mi_heap_malloc_small(heap, n);
}
#endif

template <class F>
void post_until_accepted(brisk::Engine& engine, F&& task) {
  while (engine.post(task) != brisk::SubmitStatus::accepted) std::this_thread::yield();
}

template <std::size_t N>
void post_boxed(benchmark::State& state, int box) {
  brisk::Engine engine;
  engine.start();
  const Capture<N> capture{};
  void* (*allocate)(std::size_t) = nullptr;
  void (*release)(void*) = nullptr;
  switch (box) {
    case 1: allocate = new_block, release = delete_block; break;
    case 2: allocate = __libc_malloc, release = __libc_free; break;
#if BRISK_BENCH_MIMALLOC
    case 3: allocate = mi_block, release = mi_free; break;
#endif
    case 4: allocate = [](std::size_t n) { return brisk::detail::box_allocate(n); }, release = brisk::detail::box_free; break;
    default: break;
  }
  if (box != 0 && allocate == nullptr) {
    state.SkipWithError("this build has no mimalloc (BRISK_BENCH_MIMALLOC=OFF)");
    return;
  }
  for (auto _ : state) {
    if (box == 0) {
      post_until_accepted(engine, capture);
    } else {
      void* block = allocate(N);
      void (*free_it)(void*) = release;
      if (block == nullptr) block = new_block(N), free_it = delete_block;  // the box pool at its bound
      std::memcpy(block, capture.bytes.data(), N);
      post_until_accepted(engine, HandBox{static_cast<unsigned char*>(block), N, free_it});
    }
  }
  engine.drain();
  state.SetItemsProcessed(state.iterations());
}

void BM_BoxedPost(benchmark::State& state) {
  const int box = static_cast<int>(state.range(0));
  switch (state.range(1)) {
    case 48: return post_boxed<48>(state, box);
    case 64: return post_boxed<64>(state, box);
    case 256: return post_boxed<256>(state, box);
    default: state.SkipWithError("capture sizes are 48, 64 or 256 bytes");
  }
}
BENCHMARK(BM_BoxedPost)
    ->ArgsProduct({{0, 1, 2, 3, 4}, {48, 64, 256}})
    ->ArgNames({"box", "bytes"})
    ->Iterations(kTasks)
    ->UseRealTime();

void BM_InlinePost(benchmark::State& state) {
  brisk::Engine engine;
  engine.start();
  const Capture<32> capture{};
  for (auto _ : state) post_until_accepted(engine, capture);
  engine.drain();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InlinePost)->Iterations(kTasks)->UseRealTime();

}  // namespace

// The box pool (engine/alloc/): boxed post() closures allocated on the
// producer's slab and freed on workers. Sizes and bounds, blocks coming back
// from another thread and from an exited one, and a stress run of producers
// that come and go while their closures are still queued (run it under TSan
// and ASan: CI does).
#include "brisk/brisk.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

#include "alloc/size_classes.hpp"

namespace brisk {
namespace {

using detail::box_allocate;
using detail::box_free;

// Runs `body` on a thread of its own and waits for it (and its exit).
template <class F>
void on_new_thread(F body) {
  std::thread(body).join();
}

TEST(BoxPool, ServesUpToItsLargestClassLineAligned) {
  on_new_thread([] {
    for (std::size_t bytes : {1, 33, 64, 65, 128, 200, 256}) {
      void* p = box_allocate(bytes);
      ASSERT_NE(p, nullptr) << bytes;
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % detail::kBoxMaxAlign, 0u) << bytes;
      box_free(p);
    }
    EXPECT_EQ(box_allocate(detail::kBoxMaxBytes + 1), nullptr);
  });
}

TEST(BoxPool, OwnerReusesItsFreedBlock) {
  on_new_thread([] {
    void* a = box_allocate(64);
    box_free(a);
    EXPECT_EQ(box_allocate(64), a);
    box_free(a);
  });
}

// A bounded pool: past its chunks a class answers nullptr, and the closures
// that would have used it are boxed with operator new and still run.
TEST(BoxPool, BoundedPerClassThenJobsFallBackToNew) {
  constexpr std::size_t kBlocks = detail::alloc::kMaxChunksPerClass *
                                  ((detail::alloc::kChunkBytes - sizeof(detail::alloc::ChunkHeader)) / 256);
  EngineConfig config;
  config.workers = 2;
  config.pin_workers = false;
  Engine engine(config);
  engine.start();
  std::atomic<int> ran{0};
  on_new_thread([&] {
    std::vector<void*> held;
    while (void* p = box_allocate(256)) {
      held.push_back(p);
      ASSERT_LE(held.size(), kBlocks);
    }
    EXPECT_GT(held.size(), 0u);
    struct Big {
      std::array<char, 200> bytes{};
      std::atomic<int>* ran;
      void operator()() const { ran->fetch_add(bytes[199] == 7 ? 1 : 0); }
    };
    Big big{{}, &ran};
    big.bytes[199] = 7;
    for (int i = 0; i < 100; ++i) {
      while (engine.post(big) != SubmitStatus::accepted) std::this_thread::yield();
    }
    engine.drain();
    for (void* p : held) box_free(p);
  });
  EXPECT_EQ(ran.load(), 100);
}

// Blocks freed on another thread that exits before it filled a batch still
// go back to their owner: the owner gets every one of them again.
TEST(BoxPool, ExitingThreadReturnsItsUnfinishedBatch) {
  on_new_thread([] {
    std::vector<void*> mine;
    for (int i = 0; i < 5; ++i) mine.push_back(box_allocate(128));
    on_new_thread([&] {
      for (void* p : mine) box_free(p);
    });
    const std::set<void*> wanted(mine.begin(), mine.end());
    std::set<void*> seen;
    std::vector<void*> again;
    while (seen.size() < wanted.size()) {
      void* p = box_allocate(128);
      ASSERT_NE(p, nullptr) << "a returned block never came back";
      again.push_back(p);
      if (wanted.count(p) != 0) seen.insert(p);
    }
    for (void* p : again) box_free(p);
  });
}

// The stress run: producers post boxed closures of several sizes (one larger
// than the pool serves) whose captures carry a pattern the task checks, and
// exit while their closures are still queued, so workers return blocks to
// abandoned slabs that the next round's producers adopt.
template <std::size_t N>
struct Stamped {
  std::array<std::uint64_t, N / 8> words;
  std::atomic<std::uint64_t>* good;
  std::atomic<std::uint64_t>* bad;
  Stamped(std::uint64_t stamp, std::atomic<std::uint64_t>* g, std::atomic<std::uint64_t>* b) : good(g), bad(b) {
    words.fill(stamp);
  }
  void operator()() const {
    for (std::uint64_t w : words) {
      if (w != words[0]) {
        bad->fetch_add(1, std::memory_order_relaxed);
        return;
      }
    }
    good->fetch_add(1, std::memory_order_relaxed);
  }
};

TEST(BoxPool, StressProducersComeAndGoWhileClosuresAreQueued) {
  EngineConfig config;
  config.workers = 2;
  config.pin_workers = false;
  config.ring_capacity = 1024;
  Engine engine(config);
  engine.start();
  std::atomic<std::uint64_t> good{0}, bad{0};
  constexpr int kRounds = 4, kProducers = 3, kPerProducer = 8'000;
  auto post = [&](auto task) {
    while (engine.post(task) != SubmitStatus::accepted) std::this_thread::yield();
  };
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p, round] {
        for (std::uint64_t i = 0; i < kPerProducer; ++i) {
          const std::uint64_t stamp = (std::uint64_t(round * kProducers + p) << 32) | i;
          switch (i % 5) {
            case 0: post(Stamped<48>(stamp, &good, &bad)); break;
            case 1: post(Stamped<64>(stamp, &good, &bad)); break;
            case 2: post(Stamped<120>(stamp, &good, &bad)); break;
            case 3: post(Stamped<248>(stamp, &good, &bad)); break;
            default: post(Stamped<320>(stamp, &good, &bad)); break;  // beyond the pool: operator new
          }
        }
      });  // exits with its last closures still queued
    }
    for (auto& t : producers) t.join();
  }
  engine.drain();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_EQ(good.load(), std::uint64_t(kRounds) * kProducers * kPerProducer);
}

}  // namespace
}  // namespace brisk

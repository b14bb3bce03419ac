// MpmcRing: every item exactly once, FIFO per producer, full/empty edges,
// with one and many producers and consumers.
#include "ring/mpmc_ring.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "support/test_seed.hpp"

namespace brisk::detail {
namespace {

TEST(MpmcRing, PushUntilFullThenPopInOrder) {
  MpmcRing<std::uint64_t> ring(8);
  for (std::uint64_t i = 0; i < 8; ++i) {
    std::uint64_t v = i;
    ASSERT_TRUE(ring.try_push(v));
  }
  std::uint64_t extra = 99;
  EXPECT_FALSE(ring.try_push(extra)) << "a full ring must refuse";
  EXPECT_EQ(extra, 99u) << "a refused item must be left untouched";
  for (std::uint64_t i = 0; i < 8; ++i) {
    std::uint64_t v = 0;
    ASSERT_TRUE(ring.try_pop(v));
    EXPECT_EQ(v, i);
  }
  std::uint64_t v;
  EXPECT_FALSE(ring.try_pop(v)) << "an empty ring must report empty";
}

TEST(MpmcRing, WrapsAroundManyLaps) {
  MpmcRing<std::uint64_t> ring(4);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    std::uint64_t v = i;
    ASSERT_TRUE(ring.try_push(v));
    std::uint64_t out = 0;
    ASSERT_TRUE(ring.try_pop(out));
    ASSERT_EQ(out, i);
  }
  EXPECT_EQ(ring.tail(), 1000u);
  EXPECT_EQ(ring.head(), 1000u);
}

TEST(MpmcRing, BulkPushTakesWhatFits) {
  MpmcRing<std::uint64_t> ring(8);
  std::uint64_t items[12];
  for (std::uint64_t i = 0; i < 12; ++i) items[i] = i;
  EXPECT_EQ(ring.try_push_bulk(items, 5), 5u);
  EXPECT_EQ(ring.try_push_bulk(items + 5, 7), 3u) << "only 3 slots were free";
  EXPECT_EQ(ring.try_push_bulk(items + 8, 4), 0u);
  for (std::uint64_t i = 0; i < 8; ++i) {
    std::uint64_t v = 0;
    ASSERT_TRUE(ring.try_pop(v));
    EXPECT_EQ(v, i);
  }
}

TEST(MpmcRing, BulkPopTakesHalfOfWhatIsThere) {
  MpmcRing<std::uint64_t> ring(16);
  for (std::uint64_t i = 0; i < 10; ++i) {
    std::uint64_t v = i;
    ASSERT_TRUE(ring.try_push(v));
  }
  std::uint64_t out[16];
  EXPECT_EQ(ring.try_pop_bulk(out, 16), 5u);
  for (std::uint64_t i = 0; i < 5; ++i) EXPECT_EQ(out[i], i);
  EXPECT_EQ(ring.try_pop_bulk(out, 2), 1u) << "half of at most max";
  EXPECT_EQ(ring.try_pop_bulk(out, 16), 2u);
  EXPECT_EQ(ring.try_pop_bulk(out, 16), 1u);
  EXPECT_EQ(ring.try_pop_bulk(out, 16), 1u);
  EXPECT_EQ(ring.try_pop_bulk(out, 16), 0u);
}

TEST(MpmcRing, DestroysItemsLeftInside) {
  auto counter = std::make_shared<int>(0);
  {
    MpmcRing<std::shared_ptr<int>> ring(4);
    for (int i = 0; i < 3; ++i) {
      auto copy = counter;
      ASSERT_TRUE(ring.try_push(copy));
    }
    EXPECT_EQ(counter.use_count(), 4);
  }
  EXPECT_EQ(counter.use_count(), 1) << "the ring's destructor must destroy queued items";
}

// Items encode (producer, sequence). Consumers check that each producer's
// items arrive in order per consumer and, overall, exactly once.
void run_mpmc(unsigned producers, unsigned consumers, std::uint64_t per_producer, bool bulk,
              std::size_t capacity) {
  MpmcRing<std::uint64_t> ring(capacity);
  std::vector<std::atomic<std::uint8_t>> seen(producers * per_producer);
  std::atomic<std::uint64_t> consumed{0};
  std::atomic<bool> order_ok{true};
  const std::uint64_t total = producers * per_producer;

  std::vector<std::thread> threads;
  for (unsigned c = 0; c < consumers; ++c) {
    threads.emplace_back([&] {
      std::vector<std::int64_t> last(producers, -1);
      std::uint64_t v;
      while (consumed.load(std::memory_order_relaxed) < total) {
        if (!ring.try_pop(v)) {
          std::this_thread::yield();  // more threads than cores: let producers run
          continue;
        }
        const auto p = static_cast<unsigned>(v >> 40);
        const auto seq = static_cast<std::int64_t>(v & ((1ull << 40) - 1));
        if (seq <= last[p]) order_ok = false;  // FIFO per producer, as seen by one consumer
        last[p] = seq;
        seen[p * per_producer + static_cast<std::uint64_t>(seq)].fetch_add(1);
        consumed.fetch_add(1);
      }
    });
  }
  for (unsigned p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      std::uint64_t i = 0;
      while (i < per_producer) {
        if (bulk) {
          std::uint64_t batch[16];
          const std::uint64_t n = std::min<std::uint64_t>(16, per_producer - i);
          for (std::uint64_t k = 0; k < n; ++k) batch[k] = (std::uint64_t{p} << 40) | (i + k);
          const std::size_t took = ring.try_push_bulk(batch, n);
          i += took;
          if (took == 0) std::this_thread::yield();
        } else {
          std::uint64_t v = (std::uint64_t{p} << 40) | i;
          if (ring.try_push(v)) {
            ++i;
          } else {
            std::this_thread::yield();
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(order_ok.load()) << "per-producer FIFO violated";
  for (std::uint64_t i = 0; i < total; ++i) ASSERT_EQ(seen[i].load(), 1) << "item " << i;
}

TEST(MpmcRing, OneProducerOneConsumerExactlyOnceInOrder) { run_mpmc(1, 1, 200'000, false, 64); }
TEST(MpmcRing, ManyProducersManyConsumersExactlyOnce) { run_mpmc(4, 4, 50'000, false, 64); }
TEST(MpmcRing, BulkProducersManyConsumersExactlyOnce) { run_mpmc(3, 3, 50'000, true, 32); }
TEST(MpmcRing, TinyRingUnderContention) { run_mpmc(4, 4, 20'000, false, 2); }

}  // namespace
}  // namespace brisk::detail

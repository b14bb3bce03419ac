// The box pool alone, no engine: producers allocate blocks and hand them to
// consumers through single-slot mailboxes; consumers check and free them,
// so every free is a remote one, returned in batches and taken back whole.
// Each round's producers exit with blocks still in flight and the next
// round's adopt their slabs. It needs nothing but engine/alloc/, so it
// builds alone under TSan and ASan in seconds (the command is in
// docs/perf.md, "Boxed closures and payloads"); brisk_tests runs it too.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "brisk/detail/box_pool.hpp"

namespace {

using brisk::detail::box_allocate;
using brisk::detail::box_free;

constexpr int kConsumers = 2, kProducers = 2, kRounds = 4, kBlocksPerProducer = 5'000;
constexpr std::size_t kSizes[] = {40, 64, 100, 256};

// Block layout: its size, then a stamp byte repeated to its end.
void fill(unsigned char* b, std::size_t size, unsigned char stamp) {
  std::memcpy(b, &size, sizeof size);
  std::memset(b + sizeof size, stamp, size - sizeof size);
}
bool intact(const unsigned char* b, std::size_t* size) {
  std::memcpy(size, b, sizeof *size);
  for (std::size_t i = sizeof *size + 1; i < *size; ++i) {
    if (b[i] != b[sizeof *size]) return false;
  }
  return true;
}

TEST(ThreadSlabStress, EveryRemoteFreeComesBackIntactAcrossAdoptions) {
  // mailbox[p * kConsumers + c]: producer p's block for consumer c, or null.
  std::vector<std::atomic<unsigned char*>> mailbox(kProducers * kConsumers);
  std::atomic<bool> producing{true};
  std::atomic<std::uint64_t> checked{0}, corrupt{0};
  std::vector<std::thread> consumers;
  for (int c = 0; c < kConsumers; ++c) {
    consumers.emplace_back([&, c] {
      for (bool last_pass = false;;) {
        bool any = false;
        for (int p = 0; p < kProducers; ++p) {
          std::atomic<unsigned char*>& slot = mailbox[p * kConsumers + c];
          // acquire: the producer's writes to the block happen before.
          unsigned char* b = slot.load(std::memory_order_acquire);
          if (b == nullptr) continue;
          any = true;
          std::size_t size = 0;
          (intact(b, &size) ? checked : corrupt).fetch_add(1, std::memory_order_relaxed);
          // release: the slot is free again. Before the block is freed, so
          // that this store does not order the writes below before the
          // producer's reuse: only the pool's own return path may.
          slot.store(nullptr, std::memory_order_release);
          std::memset(b, 0xEE, size);  // its owner must see this before it reuses the block
          box_free(b);
        }
        if (last_pass && !any) break;
        // acquire: after the producers are done, one more pass sees their last blocks.
        if (!producing.load(std::memory_order_acquire)) last_pass = true;
        if (!any) std::this_thread::yield();
      }
    });
  }
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p, round] {
        for (int i = 0; i < kBlocksPerProducer; ++i) {
          const std::size_t size = kSizes[i % 4];
          auto* b = static_cast<unsigned char*>(box_allocate(size));
          ASSERT_NE(b, nullptr);
          fill(b, size, static_cast<unsigned char>(round * 31 + p * 7 + i));
          std::atomic<unsigned char*>& slot = mailbox[p * kConsumers + i % kConsumers];
          // acquire: the consumer has finished with the slot's last block.
          while (slot.load(std::memory_order_acquire) != nullptr) std::this_thread::yield();
          // release: publishes the filled block to the consumer.
          slot.store(b, std::memory_order_release);
        }
      });  // exits with up to kConsumers blocks in flight
    }
    for (auto& t : producers) t.join();
  }
  producing.store(false, std::memory_order_release);
  for (auto& t : consumers) t.join();
  EXPECT_EQ(corrupt.load(), 0u);
  EXPECT_EQ(checked.load(), std::uint64_t(kRounds) * kProducers * kBlocksPerProducer);
}

}  // namespace

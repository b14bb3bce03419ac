// TaskTable: the bounded pool of task records, its lock-free free list, and
// the chains in which a worker gives a batch's records back at once.
#include "task/task_table.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace brisk::detail {
namespace {

TEST(TaskTable, ChainedRecordsAreHandedOutOnlyOnceTheChainIsReturned) {
  TaskTable table(4);
  std::vector<TaskRecord*> taken;
  for (int i = 0; i < 4; ++i) taken.push_back(table.acquire());
  EXPECT_EQ(table.acquire(), nullptr);  // full
  TaskTable::ReleaseChain chain;
  table.defer_release(taken[0], chain);
  table.defer_release(taken[2], chain);
  EXPECT_FALSE(chain.empty());
  EXPECT_EQ(table.acquire(), nullptr) << "a chained record is not free until the chain is returned";
  EXPECT_EQ(table.in_use(), 4u);
  table.release_chain(chain);
  EXPECT_TRUE(chain.empty());
  EXPECT_EQ(table.in_use(), 2u);
  std::set<TaskRecord*> again{table.acquire(), table.acquire()};
  EXPECT_EQ(again, (std::set<TaskRecord*>{taken[0], taken[2]}));
  EXPECT_EQ(table.acquire(), nullptr);
  table.release_chain(chain);  // an empty chain: nothing happens
  EXPECT_EQ(table.in_use(), 4u);
}

TEST(TaskTable, ReleaseClearsTheRecordAndANewGenerationNamesIt) {
  TaskTable table(2);
  TaskRecord* r = table.acquire();
  const std::uint32_t generation = generation_of(*r);
  r->set_payload("data", "key");
  r->attempt = 3;
  r->durable_id = 9;
  TaskTable::ReleaseChain chain;
  table.defer_release(r, chain);
  EXPECT_TRUE(r->payload().empty());
  EXPECT_TRUE(r->idempotency_key().empty());
  EXPECT_EQ(r->attempt, 0u);
  EXPECT_EQ(r->durable_id, 0u);
  table.release_chain(chain);
  TaskRecord* again = table.acquire();
  ASSERT_EQ(again, r);
  EXPECT_NE(generation_of(*again), generation);
}

// A record's generation is the upper half of its tasks' ids: once all 2^32 - 1
// have been given out, the record is retired rather than wrapping to the
// first again, which would let an old id name a new task.
TEST(TaskTable, ARecordWhoseIdsAreUsedUpIsRetiredNotReused) {
  TaskTable table(2);
  TaskRecord* worn = table.acquire();
  const std::uint32_t first_generation = generation_of(*worn);
  worn->state_word.store(state_word(0xffffffffu, RecordState::free));  // as after 2^32 - 2 more tasks
  table.release(worn);
  TaskRecord* other = table.acquire();
  ASSERT_NE(other, nullptr);
  EXPECT_NE(other, worn) << "the worn record came back: its next id would repeat generation " << first_generation;
  EXPECT_EQ(table.acquire(), nullptr) << "two records, one held and one retired: none is free";
  EXPECT_EQ(table.in_use(), 1u);
}

TEST(TaskTable, AReleasedRecordDoesNotHoldOnToALargePayload) {
  TaskTable table(2);
  TaskRecord* r = table.acquire();
  r->set_payload(std::string(1 << 20, 'x'), "");
  table.release(r);
  EXPECT_LE(r->payload_and_key.capacity(), TaskTable::kKeptPayloadBytes);
}

// Each thread takes records from a free list of its own and they return
// there; a thread whose list is empty must still find the records that lie
// free in others' lists, or the table would report full while half empty.
TEST(TaskTable, AThreadFindsRecordsFreedIntoAnotherThreadsList) {
  constexpr std::uint32_t kCapacity = 64;
  TaskTable table(kCapacity);
  TaskRecord* mine = table.acquire();
  const std::uint8_t my_list = mine->free_list;
  table.release(mine);
  // Threads are given lists in turn: the next thread or the one after has
  // a list other than ours.
  std::uint8_t others_list = my_list;
  while (others_list == my_list) {
    std::thread other([&] {
      std::vector<TaskRecord*> taken;
      for (std::uint32_t i = 0; i < kCapacity; ++i) taken.push_back(table.acquire());
      others_list = taken.front()->free_list;
      for (TaskRecord* r : taken) table.release(r);  // home: that thread's list
    });
    other.join();
  }
  EXPECT_EQ(table.in_use(), 0u);
  std::set<TaskRecord*> all;
  while (TaskRecord* r = table.acquire()) all.insert(r);
  EXPECT_EQ(all.size(), kCapacity);
  EXPECT_EQ(table.in_use(), kCapacity);
}

// Producers take records and hand them to consumers, which give them back
// one at a time or in chains of up to 16, as workers do. Every record must
// be held by one thread at a time, and all must come back.
TEST(TaskTable, ManyThreadsNeverHoldOneRecordTwice) {
  constexpr std::uint32_t kCapacity = 512;
  constexpr int kProducers = 4, kConsumers = 4, kPerProducer = 200'000;
  TaskTable table(kCapacity);
  std::vector<std::atomic<int>> holders(kCapacity);
  // Producers publish a record in a free slot of a shared array; consumer c
  // takes from slots c, c + kConsumers, ...
  constexpr int kSlots = 64;
  std::vector<std::atomic<TaskRecord*>> slots(kSlots);
  std::atomic<int> produced{0}, consumed{0}, violations{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        TaskRecord* r;
        while ((r = table.acquire()) == nullptr) std::this_thread::yield();
        if (holders[r->index].fetch_add(1) != 0) violations.fetch_add(1);
        for (int s = (p * 7 + i) % kSlots;; s = (s + 1) % kSlots) {
          TaskRecord* empty = nullptr;
          if (slots[s].compare_exchange_weak(empty, r)) break;
        }
        produced.fetch_add(1);
      }
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      TaskTable::ReleaseChain chain;
      int chained = 0;
      const bool chains = c % 2 == 0;  // half give back one at a time
      while (consumed.load() < kProducers * kPerProducer) {
        bool took = false;
        for (int s = c; s < kSlots; s += kConsumers) {
          TaskRecord* r = slots[s].exchange(nullptr);
          if (r == nullptr) continue;
          took = true;
          if (holders[r->index].fetch_sub(1) != 1) violations.fetch_add(1);
          if (chains) {
            table.defer_release(r, chain);
            if (++chained == 16) {
              table.release_chain(chain);
              chained = 0;
            }
          } else {
            table.release(r);
          }
          consumed.fetch_add(1);
        }
        if (!took) {
          table.release_chain(chain);  // going idle: give the batch back
          chained = 0;
          std::this_thread::yield();
        }
      }
      table.release_chain(chain);
    });
  }
  // The in-use gauge, read while records move: never more than the table
  // holds (a release counted before its acquire would wrap it to ~4 billion).
  std::atomic<int> gauge_out_of_range{0};
  threads.emplace_back([&] {
    while (consumed.load() < kProducers * kPerProducer) {
      if (table.in_use() > kCapacity) gauge_out_of_range.fetch_add(1);
    }
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(gauge_out_of_range.load(), 0);
  EXPECT_EQ(consumed.load(), kProducers * kPerProducer);
  EXPECT_EQ(table.in_use(), 0u);
  // Every record is free again: the table hands out all of them.
  std::set<TaskRecord*> all;
  while (TaskRecord* r = table.acquire()) all.insert(r);
  EXPECT_EQ(all.size(), kCapacity);
}

// Twice as many threads as free lists, so every list is shared by two
// threads that take from it while others give back into it: two threads
// may both find a list's ready stack empty and each move a chain of given-
// back records into it at once. No record may be held twice or lost.
TEST(TaskTable, ThreadsSharingAListRefillItWithoutLosingRecords) {
  constexpr std::uint32_t kCapacity = 48;  // scarce: lists run dry all the time
  constexpr int kThreads = 2 * TaskTable::kFreeLists, kRounds = 20'000;
  TaskTable table(kCapacity);
  std::vector<std::atomic<int>> holders(kCapacity);
  std::atomic<int> violations{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      TaskTable::ReleaseChain chain;
      for (int round = 0; round < kRounds; ++round) {
        TaskRecord* held[3] = {};
        for (TaskRecord*& r : held) {
          r = table.acquire();
          if (r != nullptr && holders[r->index].fetch_add(1) != 0) violations.fetch_add(1);
        }
        for (TaskRecord* r : held) {
          if (r == nullptr) continue;
          if (holders[r->index].fetch_sub(1) != 1) violations.fetch_add(1);
          if (t % 2 == 0) {
            table.defer_release(r, chain);
          } else {
            table.release(r);
          }
        }
        table.release_chain(chain);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(table.in_use(), 0u);
  std::set<TaskRecord*> all;
  while (TaskRecord* r = table.acquire()) all.insert(r);
  EXPECT_EQ(all.size(), kCapacity) << "records lost in a refill";
}

}  // namespace
}  // namespace brisk::detail

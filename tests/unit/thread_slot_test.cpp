// this_thread_slot() (engine/platform/thread_slot.hpp): what a FinishedRing
// cursor's owner relies on. Two live threads never share a slot, and a
// thread's slot is given back when it exits, so that any number of threads
// over a process's life each get one while at most kThreadSlots live.
#include "platform/thread_slot.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

namespace brisk::detail {
namespace {

// Slots of `n` threads alive at the same time.
std::vector<std::size_t> slots_of_live_threads(int n) {
  std::vector<std::size_t> slots(static_cast<std::size_t>(n));
  std::atomic<int> asked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      slots[static_cast<std::size_t>(t)] = this_thread_slot();
      asked.fetch_add(1);
      while (asked.load() != n) std::this_thread::yield();  // none exits before all asked
    });
  }
  for (auto& t : threads) t.join();
  return slots;
}

TEST(ThreadSlot, LiveThreadsHaveDistinctSlotsAndAThreadKeepsItsOwn) {
  const std::size_t mine = this_thread_slot();
  ASSERT_LT(mine, kThreadSlots);
  EXPECT_EQ(this_thread_slot(), mine);
  const std::vector<std::size_t> slots = slots_of_live_threads(16);
  std::set<std::size_t> distinct(slots.begin(), slots.end());
  distinct.insert(mine);
  EXPECT_EQ(distinct.size(), slots.size() + 1);
  for (std::size_t slot : slots) EXPECT_LT(slot, kThreadSlots);
}

TEST(ThreadSlot, SlotsOfExitedThreadsGoToLaterOnes) {
  // Three times as many threads as slots, in waves: each gets one.
  for (int wave = 0; wave < 3 * static_cast<int>(kThreadSlots) / 16; ++wave) {
    for (std::size_t slot : slots_of_live_threads(16)) ASSERT_LT(slot, kThreadSlots) << "wave " << wave;
  }
}

TEST(ThreadSlot, ThreadsBeyondTheSlotsGetNoSlot) {
  const std::vector<std::size_t> slots = slots_of_live_threads(static_cast<int>(kThreadSlots) + 4);
  std::size_t without = 0;
  std::set<std::size_t> distinct;
  for (std::size_t slot : slots) {
    if (slot == kNoThreadSlot) {
      ++without;
    } else {
      EXPECT_TRUE(distinct.insert(slot).second) << "slot " << slot << " held twice";
    }
  }
  EXPECT_GE(without, 4u);  // this thread holds one too, and perhaps others of the process
}

}  // namespace
}  // namespace brisk::detail

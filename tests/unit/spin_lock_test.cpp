// SpinLock: mutual exclusion under contention, and waiters that went to
// sleep (the holder kept it past their spins) are woken by the unlock.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "platform/spin_lock.hpp"

using brisk::detail::SpinLock;

TEST(SpinLock, ExcludesUnderContention) {
  SpinLock lock;
  std::uint64_t counter = 0;  // plain: only the lock protects it (TSan checks the orderings)
  constexpr int kThreads = 8, kEach = 100'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        std::lock_guard guard(lock);
        ++counter;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, std::uint64_t{kThreads} * kEach);
}

TEST(SpinLock, SleepingWaitersWakeWhenTheHolderLetsGo) {
  SpinLock lock;
  lock.lock();
  int entered = 0;
  std::vector<std::thread> waiters;
  for (int t = 0; t < 4; ++t) {
    waiters.emplace_back([&] {
      std::lock_guard guard(lock);
      ++entered;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // far past their spins: asleep
  EXPECT_FALSE(lock.try_lock());
  const int before = entered;
  lock.unlock();
  for (auto& t : waiters) t.join();  // hangs if an unlock fails to wake a sleeper
  EXPECT_EQ(before, 0);
  EXPECT_EQ(entered, 4);
}

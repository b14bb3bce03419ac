// TaskTypeCounters: counts made on many threads (more threads than stripes,
// so stripes are shared) add up exactly, and events stay apart.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "registry/task_type_counters.hpp"

using brisk::detail::TaskEvent;
using brisk::detail::TaskTypeCounters;

TEST(TaskTypeCounters, CountsFromManyThreadsAddUpExactly) {
  TaskTypeCounters counters;
  constexpr int kThreads = 12, kEach = 50'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        counters.add(TaskEvent::accepted);
        if (i % 2 == 0) counters.add(TaskEvent::succeeded);
        if (t == 0 && i % 10 == 0) counters.add(TaskEvent::late_result);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counters.total(TaskEvent::accepted), std::uint64_t{kThreads} * kEach);
  EXPECT_EQ(counters.total(TaskEvent::succeeded), std::uint64_t{kThreads} * kEach / 2);
  EXPECT_EQ(counters.total(TaskEvent::late_result), std::uint64_t{kEach} / 10);
  EXPECT_EQ(counters.total(TaskEvent::cancelled), 0u);
  EXPECT_EQ(counters.total(TaskEvent::failed_attempt), 0u);
}

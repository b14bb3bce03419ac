// FinishedTasks (engine/status/finished_tasks.hpp): waiters and callbacks
// registered while a task ends. What on_finished() and wait() rely on: a
// callback runs exactly once, also for a task that ended and was evicted
// before the waiter looked (it is then told `unknown`, at once).
#include "status/finished_tasks.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>

#include "brisk/clock.hpp"
#include "platform/tick_clock.hpp"

namespace brisk::detail {
namespace {

using namespace std::chrono_literals;

FinishedTask ended_task(TaskId id) {
  FinishedTask task;
  task.fields.id = id;
  task.fields.state = TaskState::succeeded;
  task.fields.attempts = 1;
  return task;
}

constexpr TaskId kFirst = TaskId{7} << 32 | 3;   // generation 7 of record 3
constexpr TaskId kSecond = TaskId{1} << 32 | 4;  // another record's task

class FinishedTasksTest : public ::testing::Test {
 protected:
  TickClock ticks{SteadyClock::instance()};
  // Remembers one task: the second to end evicts the first.
  FinishedTasks finished{1, std::int64_t{3600} * 1'000'000'000, ticks};
  std::atomic<std::uint32_t> first_ended{0}, second_ended{0};
};

// The waiter's first look missed the task (it had not ended); by its second,
// it had ended and been evicted: the end was seen neither by the task's
// add() (no registration yet) nor in the ring. The record's ended
// generation tells the waiter it ended.
TEST_F(FinishedTasksTest, ACallbackForATaskEvictedBeforeItRegisteredRunsAtOnceWithUnknown) {
  finished.add(ended_task(kFirst), first_ended);
  finished.add(ended_task(kSecond), second_ended);  // evicts the first
  TaskInfo info;
  ASSERT_FALSE(finished.find(kFirst, 0, &info)) << "the first is no longer remembered";
  int runs = 0;
  TaskInfo told;
  told.state = TaskState::succeeded;
  EXPECT_TRUE(finished.when_added(kFirst, first_ended, 0, [&](const TaskInfo& i) {
    ++runs;
    told = i;
  }));
  EXPECT_EQ(runs, 1) << "the callback must run, once, not wait for an end that has passed";
  EXPECT_EQ(told.id, kFirst);
  EXPECT_EQ(told.state, TaskState::unknown);
  // Nothing stays registered: a later end of another task runs nothing.
  EXPECT_EQ(finished.add(ended_task(kSecond + (TaskId{1} << 32)), second_ended), 0u);
}

TEST_F(FinishedTasksTest, AWaitForATaskEvictedBeforeItRegisteredAnswersUnknownAtOnce) {
  finished.add(ended_task(kFirst), first_ended);
  finished.add(ended_task(kSecond), second_ended);
  TaskInfo info;
  info.state = TaskState::succeeded;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(finished.wait_for(kFirst, first_ended, 0, 10s, &info));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "waited out the timeout for an end that had passed";
  EXPECT_EQ(info.state, TaskState::unknown);
}

// A task still to end: the waiter stays registered, and the end runs it once.
TEST_F(FinishedTasksTest, ACallbackForATaskStillToEndRunsWhenItEnds) {
  int runs = 0;
  TaskInfo told;
  EXPECT_FALSE(finished.when_added(kFirst, first_ended, 0, [&](const TaskInfo& i) {
    ++runs;
    told = i;
  }));
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(finished.add(ended_task(kFirst), first_ended), 1u);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(told.state, TaskState::succeeded);
  EXPECT_EQ(told.attempts, 1u);
}

// The record went on to a later task, which ended: this one ended before it.
TEST_F(FinishedTasksTest, ALaterGenerationsEndMeansThisOneEnded) {
  std::atomic<std::uint32_t> record_ended{9};  // generation 9 of the record ended since
  int runs = 0;
  EXPECT_TRUE(finished.when_added(kFirst, record_ended, 0, [&](const TaskInfo&) { ++runs; }));
  EXPECT_EQ(runs, 1);
}

}  // namespace
}  // namespace brisk::detail

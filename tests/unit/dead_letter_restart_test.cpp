// Dead letters across restarts: a restart brings back exactly the letters
// the queue held, keeps reporting them honestly however often it runs, and
// does not pass off what damage left of a letter as one.
#include "brisk/brisk.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "wal_test_support.hpp"

namespace brisk {
namespace {

namespace wal = detail::wal;

class DeadLetterRestart : public ::testing::Test {
 protected:
  EngineConfig config(std::size_t dead_letter_capacity) {
    EngineConfig c;
    c.workers = 1;
    c.pin_workers = false;
    c.clock = &clock;
    c.durability.wal_dir = dir.path();
    c.dead_letter_capacity = dead_letter_capacity;
    return c;
  }
  static void register_failing_job(Engine& engine) {
    TaskTypeOptions once;
    once.retry.max_attempts = 1;
    engine.register_task("job", [](TaskContext&) { return Outcome::fail("declined"); }, once);
  }
  // Five durable tasks that fail, one after the other: letters p0 .. p4.
  void fail_five(std::size_t dead_letter_capacity) {
    Engine engine(config(dead_letter_capacity));
    register_failing_job(engine);
    engine.start();
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(engine.wait_durable(engine.submit("job", "p" + std::to_string(i))));
      engine.drain();
    }
    const std::size_t kept = std::min<std::size_t>(5, dead_letter_capacity);
    ASSERT_EQ(engine.dead_letter_count(), kept);
    EXPECT_EQ(engine.stats().dead_letters_dropped, 5 - kept);
  }
  static std::vector<std::string> payloads(const Engine& engine) {
    std::vector<std::string> out;
    for (const DeadLetter& l : engine.dead_letters()) out.push_back(l.payload);
    return out;
  }
  // Restarts with `dead_letter_capacity` and checks that the newest two
  // letters came back, and that restarting dropped `dropped` more.
  void expect_newest_two_after_restart(std::size_t dead_letter_capacity, std::uint64_t dropped, int restart) {
    Engine engine(config(dead_letter_capacity));
    register_failing_job(engine);
    engine.start();
    EXPECT_EQ(engine.recovery_report().dead_letters_restored, 2u) << "restart " << restart;
    EXPECT_EQ(payloads(engine), (std::vector<std::string>{"p3", "p4"})) << "restart " << restart;
    EXPECT_EQ(engine.stats().dead_letters_dropped, dropped) << "restart " << restart;
  }

  test::TempDir dir;
  ManualClock clock;
};

// Each drop from the full queue is logged: no restart restores the dropped
// letters only to drop them again (and report them restored).
TEST_F(DeadLetterRestart, AFullQueueKeepsTheNewestLettersAndRestartsDoNotBringBackTheDropped) {
  fail_five(2);
  for (int restart = 1; restart <= 2; ++restart) expect_newest_two_after_restart(2, 0, restart);
}

// The log holds more letters than a smaller queue keeps: the restart drops
// the oldest, logs it, and counts only what it kept; a later restart with
// room for all of them does not bring the dropped back.
TEST_F(DeadLetterRestart, ARestartWithASmallerQueueLogsWhatItDrops) {
  fail_five(5);
  expect_newest_two_after_restart(2, 3, 1);
  expect_newest_two_after_restart(5, 0, 2);
}

// skip_any_corrupted_record skipped a task's submit record but kept its
// dead-letter record: the letter has no name and no payload (a replay could
// only answer "unknown task name"). It is reported as damage, not restored,
// and the checkpoint written at open does not carry it to the next start.
TEST_F(DeadLetterRestart, ALetterWhoseSubmitRecordWasLostIsReportedNotRestored) {
  wal::TaskImage task;
  task.id = 9;
  task.type_name = "job";
  task.payload = "card";
  wal::FileBuilder first(wal::FileKind::segment, 1, 1);
  const std::size_t submit = first.add(1, task);
  first.add(2, wal::TaskDeadLettered{9, 1, {{1, 1, "declined"}}});
  first.bytes()[submit + wal::kRecordHeaderSize + 2] ^= 0x10;  // the submit record's CRC fails
  test::write_file(dir.file(wal::file_name(wal::FileKind::segment, 1)), first.bytes());
  // A later segment: the damage is in synced data, not a torn tail.
  test::write_file(dir.file(wal::file_name(wal::FileKind::segment, 2)),
                   wal::FileBuilder(wal::FileKind::segment, 2, 3).bytes());

  EngineConfig lenient = config(10);
  lenient.durability.recovery_mode = RecoveryMode::skip_any_corrupted_record;
  {
    Engine engine(lenient);
    register_failing_job(engine);
    engine.start();
    EXPECT_EQ(engine.dead_letter_count(), 0u);
    EXPECT_EQ(engine.recovery_report().dead_letters_restored, 0u);
    const std::vector<std::string>& damage = engine.recovery_report().damage;
    EXPECT_NE(std::find(damage.begin(), damage.end(),
                        "dead letter for durable task 9: its submit record was lost to damage; name and payload "
                        "unknown, not restored"),
              damage.end())
        << ::testing::PrintToString(damage);
  }
  Engine engine(lenient);
  register_failing_job(engine);
  engine.start();
  EXPECT_EQ(engine.dead_letter_count(), 0u);
  EXPECT_TRUE(engine.recovery_report().damage.empty()) << ::testing::PrintToString(engine.recovery_report().damage);
}

}  // namespace
}  // namespace brisk

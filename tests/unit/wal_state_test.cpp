// Folding records into state (StateBuilder), where log streams matter: the
// log keeps order only within a stream, so whatever spans streams must not
// depend on the order records of different streams were laid out in.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "wal/recovery.hpp"

namespace wal = brisk::detail::wal;
using brisk::TaskId;

namespace {

std::set<TaskId> dead_ids(const wal::StateBuilder& b) {
  std::set<TaskId> out;
  for (const auto* d : b.dead_in_order()) out.insert(d->letter.id);
  return out;
}

wal::TaskImage submitted(TaskId id) {
  wal::TaskImage t;
  t.id = id;
  t.type_name = "job";
  t.payload = "payload " + std::to_string(id);
  return t;
}

void dead_letter_record(wal::StateBuilder& b, TaskId id) { b.apply(wal::TaskDeadLettered{id, 1, {{10, 1, "failed"}}}); }

// A task submitted, then dead-lettered (its records share its stream, in
// this order).
void dead_letter(wal::StateBuilder& b, TaskId id) {
  b.apply(submitted(id));
  dead_letter_record(b, id);
}

}  // namespace

// A purge is logged in every stream, behind the letters logged in that
// stream before it. A letter of another stream may come after a stream's
// purge in the file and yet predate the purge (its own stream's part comes
// later): each part clears only its own stream.
TEST(WalState, APurgePartClearsOnlyTheLettersOfItsStream) {
  wal::StateBuilder b;
  const TaskId in_stream_1 = 1, also_in_stream_1 = 1 + wal::kLogStreams, in_stream_2 = 2;
  ASSERT_EQ(wal::stream_of(in_stream_1), 1u);
  ASSERT_EQ(wal::stream_of(also_in_stream_1), 1u);
  dead_letter(b, in_stream_1);
  b.apply(wal::DlqPurged{1});
  dead_letter(b, in_stream_2);  // before the purge in time: stream 2's part follows
  dead_letter(b, also_in_stream_1);  // after the purge
  EXPECT_EQ(dead_ids(b), (std::set<TaskId>{in_stream_2, also_in_stream_1}));
  b.apply(wal::DlqPurged{2});
  EXPECT_EQ(dead_ids(b), (std::set<TaskId>{also_in_stream_1}));
  b.apply(wal::DlqPurged{});  // a purge of every stream at once (one record)
  EXPECT_TRUE(dead_ids(b).empty());
}

// Two tasks may carry one key when the second came after the first's
// retention ran out; in different streams they may be laid out in either
// order. The key must name the later one either way.
TEST(WalState, AKeyNamesItsLatestAcceptanceWhateverTheLogOrder) {
  for (const bool later_first : {false, true}) {
    wal::StateBuilder b;
    wal::TaskImage earlier;
    earlier.id = 1;
    earlier.idempotency_key = "order-7";
    earlier.submit_ns = 1'000;
    wal::TaskImage later = earlier;
    later.id = 2;
    later.submit_ns = 5'000;
    if (later_first) {
      b.apply(wal::TaskImage(later));
      b.apply(wal::TaskImage(earlier));
    } else {
      b.apply(wal::TaskImage(earlier));
      b.apply(wal::TaskImage(later));
    }
    const auto keys = b.keys({});
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_EQ(keys[0].id, 2u) << (later_first ? "later first" : "earlier first");
    EXPECT_EQ(keys[0].accepted_ns, 5'000);
  }
}

// skip_any_corrupted_record may skip a task's submit record and keep its
// dead-letter record. Without a name and a payload it is no letter (a replay
// could only answer "unknown task name"): it is an orphan, reported apart,
// and a checkpoint (which writes dead_in_order()) does not carry it.
TEST(WalState, ADeadLetterWhoseSubmitRecordIsMissingIsAnOrphanNotALetter) {
  wal::StateBuilder b;
  dead_letter(b, 3);
  dead_letter_record(b, 9);  // its submit record was lost
  EXPECT_EQ(dead_ids(b), (std::set<TaskId>{3}));
  EXPECT_EQ(b.orphan_dead_letters(), (std::set<TaskId>{9}));
  EXPECT_EQ(b.max_task_id(), 9u);
  const wal::RecoveredState state = b.finish({});
  ASSERT_EQ(state.dead_letters.size(), 1u);
  EXPECT_EQ(state.dead_letters[0].name, "job");
  EXPECT_EQ(state.dead_letters[0].payload, "payload 3");
  EXPECT_EQ(state.orphan_dead_letters, std::vector<TaskId>{9});
}

// An orphan that left the queue before the log ends is not reported.
TEST(WalState, AnOrphanThatLeftTheQueueIsNotReported) {
  wal::StateBuilder b;
  for (const TaskId id : {1, 2, 3}) dead_letter_record(b, id);
  b.apply(wal::DlqReplayed{1});
  b.apply(wal::DlqDropped{2});
  b.apply(wal::DlqPurged{wal::stream_of(3)});
  EXPECT_TRUE(b.orphan_dead_letters().empty());
}

// A letter a full queue dropped is gone for good: no restart restores it.
TEST(WalState, ADroppedLetterLeavesTheQueue) {
  wal::StateBuilder b;
  dead_letter(b, 1);
  dead_letter(b, 2);
  b.apply(wal::DlqDropped{1});
  EXPECT_EQ(dead_ids(b), (std::set<TaskId>{2}));
}

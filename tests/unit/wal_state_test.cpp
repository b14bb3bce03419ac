// Folding records into state (StateBuilder), where log streams matter: the
// log keeps order only within a stream, so whatever spans streams must not
// depend on the order records of different streams were laid out in.
#include <gtest/gtest.h>

#include <set>

#include "wal/recovery.hpp"

namespace wal = brisk::detail::wal;
using brisk::TaskId;

namespace {

std::set<TaskId> dead_ids(const wal::StateBuilder& b) {
  std::set<TaskId> out;
  for (const auto* d : b.dead_in_order()) out.insert(d->letter.id);
  return out;
}

void dead_letter(wal::StateBuilder& b, TaskId id) { b.apply(wal::TaskDeadLettered{id, 1, {{10, 1, "failed"}}}); }

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

// FinishedRing (engine/status/finished_ring.hpp): the lock-free store of
// finished tasks. What status() relies on: an entry found is the one
// written for that id, whole (never torn, never another task's), the
// oldest go first, and the counts add up, while several writers add and
// readers look up at the same time.
#include "status/finished_ring.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace brisk::detail {
namespace {

// Every field a function of the id, so that a torn read (fields of two
// entries) or another task's entry shows.
FinishedFields fields_for(TaskId id) {
  FinishedFields f;
  f.id = id;
  f.accepted_stamp = id * 3;
  f.started_ns = static_cast<std::int64_t>(id * 5);
  f.finished_ns = static_cast<std::int64_t>(id * 7);
  f.attempts = static_cast<std::uint32_t>(id % 1000);
  f.state = id % 2 == 0 ? TaskState::succeeded : TaskState::dead_lettered;
  return f;
}

void expect_whole(const FinishedFields& f, TaskId asked) {
  ASSERT_EQ(f.id, asked) << "another task's entry";
  const FinishedFields want = fields_for(asked);
  EXPECT_EQ(f.accepted_stamp, want.accepted_stamp) << asked;
  EXPECT_EQ(f.started_ns, want.started_ns) << asked;
  EXPECT_EQ(f.finished_ns, want.finished_ns) << asked;
  EXPECT_EQ(f.attempts, want.attempts) << asked;
  EXPECT_EQ(f.state, want.state) << asked;
}

// Ids that share record indexes across generations, as reused records do:
// (generation << 32) | record.
TaskId id_of(std::uint64_t n) { return (n / 8 + 1) << 32 | (n % 8); }

TEST(FinishedRing, SmallRingKeepsExactlyTheLastEntriesOldestFirst) {
  FinishedRing ring(4);
  for (std::uint64_t n = 0; n < 50; ++n) EXPECT_EQ(ring.add(fields_for(id_of(n))), 0u);
  for (std::uint64_t n = 0; n < 50; ++n) {
    FinishedFields f;
    const bool found = ring.find(id_of(n), &f);
    EXPECT_EQ(found, n >= 46) << n;
    if (found) expect_whole(f, id_of(n));
  }
  EXPECT_EQ(ring.added(), 50u);
  EXPECT_EQ(ring.size(INT64_MAX), 4u);
}

TEST(FinishedRing, AnOverwrittenEntryWithTextsIsNamedSoTheyCanBeDropped) {
  FinishedRing ring(2);
  FinishedFields with_texts = fields_for(id_of(0));
  with_texts.has_texts = true;
  EXPECT_EQ(ring.add(with_texts), 0u);
  EXPECT_EQ(ring.add(fields_for(id_of(1))), 0u);
  EXPECT_EQ(ring.add(fields_for(id_of(2))), id_of(0)) << "the entry with texts was overwritten";
}

TEST(FinishedRing, RetentionCountsFromTheNewestEntry) {
  FinishedRing ring(8);
  for (std::uint64_t n = 0; n < 4; ++n) ring.add(fields_for(id_of(n)));  // finished_ns 7 * id
  const std::int64_t newest = fields_for(id_of(3)).finished_ns;
  const std::int64_t second = fields_for(id_of(2)).finished_ns;
  EXPECT_EQ(ring.size(newest - second), 2u);
}

// Writers add while readers look up ids already added: every entry found
// is whole and the asked-for task's. After the writers end the ring holds
// exactly its capacity and has counted every add.
void stress(std::size_t capacity) {
  constexpr int kWriters = 3;
  constexpr std::uint64_t kPerWriter = 60'000;
  std::atomic<std::uint64_t> progress[kWriters] = {};  // release/acquire: ids below were added
  std::atomic<bool> writing{true};
  std::atomic<int> readers_started{0};
  std::vector<std::thread> threads;
  FinishedRing ring(capacity);
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      while (readers_started.load(std::memory_order_acquire) < 2) std::this_thread::yield();
      for (std::uint64_t i = 0; i < kPerWriter; ++i) {
        ring.add(fields_for(id_of(i * kWriters + w)));
        progress[w].store(i + 1, std::memory_order_release);
        // As workers do between tasks, now and then: lookups take the
        // index's catch-up while writers race ahead, and must still find.
        if (i % 1024 == 1023) std::this_thread::yield();
      }
    });
  }
  std::atomic<std::uint64_t> found{0};
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      readers_started.fetch_add(1, std::memory_order_release);
      std::uint64_t seed = 0x9E3779B97F4A7C15ull * (r + 1);
      while (writing.load(std::memory_order_relaxed)) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        const int w = static_cast<int>((seed >> 33) % kWriters);
        const std::uint64_t done = progress[w].load(std::memory_order_acquire);
        if (done == 0) continue;
        // Mostly recent ids (likely still held), sometimes any.
        const std::uint64_t back = (seed >> 40) % (seed % 4 == 0 ? done : std::min<std::uint64_t>(done, capacity));
        const TaskId id = id_of((done - 1 - back) * kWriters + w);
        FinishedFields f;
        if (ring.find(id, &f)) {
          expect_whole(f, id);
          found.fetch_add(1, std::memory_order_relaxed);
        }
        // An id never added is never found.
        EXPECT_FALSE(ring.find(id_of(kPerWriter * kWriters + (seed >> 50)), &f));
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  writing.store(false);
  for (std::size_t t = kWriters; t < threads.size(); ++t) threads[t].join();
  EXPECT_EQ(ring.added(), kPerWriter * kWriters);
  EXPECT_EQ(ring.size(INT64_MAX), capacity);
  // Two rings' worth more from one thread. Its cursor may hold a chunk a
  // writer left (a writer whose own cursor a lookup held took the next
  // one), up to capacity / kLagDivisor behind: so of its last `capacity`
  // entries, those the ring promises to keep are all found (the index
  // kept every one), whole; the concurrent writers' are gone.
  const std::uint64_t first = kPerWriter * kWriters;
  const std::uint64_t end = first + 2 * capacity;
  for (std::uint64_t n = first; n < end; ++n) ring.add(fields_for(id_of(n)));
  const std::uint64_t kept = capacity == 64 ? capacity : capacity - capacity / FinishedRing::kLagDivisor - FinishedRing::kChunk;
  for (std::uint64_t n = end - kept; n < end; ++n) {
    FinishedFields f;
    ASSERT_TRUE(ring.find(id_of(n), &f)) << n << " is lost";
    expect_whole(f, id_of(n));
  }
  FinishedFields f;
  for (std::uint64_t n = 0; n < first; ++n) ASSERT_FALSE(ring.find(id_of(n), &f)) << n << ": evicted, yet found";
  EXPECT_GT(found.load(), 0u) << "readers never found a recent entry";
}

// What wait() and status() rely on: once add() has returned, a lookup from
// any thread finds the entry, even while the other writers hold chunks
// they have claimed but not filled.
// Sequence numbers are 64-bit and index cells hold their low 32 bits, 0
// marking an empty cell. The one entry numbered 2^32 cannot be indexed (it
// is not found, as when its bucket pushes it out); every one after it must
// be, also when a lookup saw their chunk unfilled before it got there.
TEST(FinishedRing, EntriesAcrossALowHalfOfZeroAreFound) {
  constexpr std::uint64_t kFirst = (std::uint64_t{1} << 32) - 8;
  FinishedRing ring(64 * FinishedRing::kChunk, kFirst);
  FinishedFields f;
  ring.add(fields_for(id_of(0)));  // claims a chunk across 2^32
  ASSERT_TRUE(ring.find(id_of(0), &f)) << "a lookup that sees the rest of the chunk unfilled";
  constexpr std::uint64_t kEntries = 32;
  for (std::uint64_t n = 1; n < kEntries; ++n) ring.add(fields_for(id_of(n)));
  for (std::uint64_t n = 0; n < kEntries; ++n) {
    if (kFirst + n == (std::uint64_t{1} << 32)) continue;  // not indexed
    ASSERT_TRUE(ring.find(id_of(n), &f)) << "entry " << n << ", numbered " << kFirst + n;
    expect_whole(f, id_of(n));
  }
  EXPECT_EQ(ring.added(), kEntries);
}

TEST(FinishedRing, AnEntryIsFoundAsSoonAsItsAddReturns) {
  constexpr int kWriters = 4;
  constexpr std::uint64_t kPerWriter = 5'000;
  FinishedRing ring(kWriters * kPerWriter + 64 * FinishedRing::kChunk);  // chunks; nothing evicted
  std::atomic<std::uint64_t> missed{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (std::uint64_t i = 0; i < kPerWriter; ++i) {
        const TaskId id = id_of(i * kWriters + w);
        ring.add(fields_for(id));
        FinishedFields f;
        if (!ring.find(id, &f)) {
          missed.fetch_add(1, std::memory_order_relaxed);
        } else {
          expect_whole(f, id);
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(missed.load(), 0u);
  // And from another thread, every one of them afterwards.
  for (std::uint64_t n = 0; n < kWriters * kPerWriter; ++n) {
    FinishedFields f;
    ASSERT_TRUE(ring.find(id_of(n), &f)) << n;
  }
}

// Each writing thread owns a cursor by its thread slot: threads that exit
// hand theirs to later ones (a half-used chunk with it), and threads beyond
// kThreadSlots share one under a mutex. Entries are found all the same.
TEST(FinishedRing, WritersThatComeAndGoOrOutnumberTheSlotsAreAllFound) {
  constexpr std::uint64_t kPerWriter = 50;
  constexpr int kGenerations = 4, kShortLived = 4;
  constexpr int kCrowd = static_cast<int>(kThreadSlots) + 8;
  FinishedRing ring((kGenerations * kShortLived + kCrowd) * kPerWriter + 64 * FinishedRing::kChunk);
  std::atomic<std::uint64_t> next_id{0};
  std::atomic<std::uint64_t> missed{0};
  const auto write_and_find = [&] {
    for (std::uint64_t i = 0; i < kPerWriter; ++i) {
      const TaskId id = id_of(next_id.fetch_add(1, std::memory_order_relaxed));
      ring.add(fields_for(id));
      FinishedFields f;
      if (!ring.find(id, &f)) missed.fetch_add(1, std::memory_order_relaxed);
    }
  };
  const auto run_together = [&](int threads) {
    std::atomic<int> ready{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t) {
      writers.emplace_back([&] {
        ready.fetch_add(1);
        while (ready.load() != threads) std::this_thread::yield();  // all alive at once
        write_and_find();
      });
    }
    for (auto& t : writers) t.join();
  };
  for (int g = 0; g < kGenerations; ++g) run_together(kShortLived);
  run_together(kCrowd);
  EXPECT_EQ(missed.load(), 0u);
  for (std::uint64_t n = 0; n < next_id.load(); ++n) {
    FinishedFields f;
    ASSERT_TRUE(ring.find(id_of(n), &f)) << n;
    expect_whole(f, id_of(n));
  }
  EXPECT_EQ(ring.added(), next_id.load());
}

// A thread that finishes a task now and then (one that cancels) drops its
// chunk at nearly every entry, as it has fallen behind by then. The numbers
// it drops are never written, and the entries written meanwhile outlive
// fewer newer ones: it must drop few. One entry from it after every 300
// from a busy writer (past the lag bound, 256 here), 3,800 newer entries
// in all: the watched entry must still be there (with chunks of 64 at
// every drop it was evicted after about 3,300).
TEST(FinishedRing, AWriterThatWritesNowAndThenDoesNotShortenTheWindow) {
  constexpr std::uint64_t kCapacity = 64 * FinishedRing::kChunk;  // chunks of kChunk, lag bound 256
  constexpr std::uint64_t kNewer = 3800;                           // under capacity * (1 - 1/16) = 3840
  FinishedRing ring(kCapacity);
  const TaskId watched = id_of(0);
  ring.add(fields_for(watched));
  std::atomic<std::uint64_t> turn{0};  // release/acquire: the id the sparse writer adds next (0: none)
  std::atomic<bool> done{false};
  std::thread sparse([&] {
    for (;;) {
      std::uint64_t n;
      while ((n = turn.load(std::memory_order_acquire)) == 0 && !done.load()) std::this_thread::yield();
      if (n == 0) return;
      ring.add(fields_for(id_of(n)));
      turn.store(0, std::memory_order_release);
    }
  });
  std::uint64_t n = 1;
  while (n <= kNewer) {
    for (int i = 0; i < 300 && n <= kNewer; ++i) ring.add(fields_for(id_of(n++)));
    if (n > kNewer) break;
    turn.store(n++, std::memory_order_release);
    while (turn.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  }
  done = true;
  sparse.join();
  FinishedFields f;
  EXPECT_TRUE(ring.find(watched, &f)) << "evicted after " << kNewer << " newer entries";
}

// A worker that idled with a half-used chunk must not write its next entry
// far behind the others: it would be evicted long before the ring's worth
// of newer entries came. Two threads (two cursors): the first adds one
// entry and idles while the second adds a thousand; the first's next entry
// then outlives capacity * (1 - 1/kLagDivisor) newer ones.
TEST(FinishedRing, AWriterBackFromIdlingDoesNotWriteFarBehind) {
  constexpr std::uint64_t kCapacity = 64 * FinishedRing::kChunk;  // chunks of kChunk
  FinishedRing ring(kCapacity);
  const auto on_own_thread = [](auto&& work) { std::thread(work).join(); };
  std::thread idler;
  std::atomic<int> step{0};  // release/acquire: hands the turn between the two threads
  idler = std::thread([&] {
    ring.add(fields_for(id_of(0)));
    step.store(1, std::memory_order_release);
    while (step.load(std::memory_order_acquire) != 2) std::this_thread::yield();
    ring.add(fields_for(id_of(1)));  // back from idling
    step.store(3, std::memory_order_release);
  });
  while (step.load(std::memory_order_acquire) != 1) std::this_thread::yield();
  std::uint64_t n = 2;
  on_own_thread([&] {
    for (; n < 1000; ++n) ring.add(fields_for(id_of(n)));  // past the lag bound, within half the ring
  });
  step.store(2, std::memory_order_release);
  while (step.load(std::memory_order_acquire) != 3) std::this_thread::yield();
  idler.join();
  const std::uint64_t kept_behind = kCapacity - kCapacity / FinishedRing::kLagDivisor - FinishedRing::kChunk;
  on_own_thread([&] {
    for (std::uint64_t i = 0; i < kept_behind; ++i, ++n) ring.add(fields_for(id_of(n)));
  });
  FinishedFields f;
  ASSERT_TRUE(ring.find(id_of(1), &f)) << "evicted after " << kept_behind << " newer entries in a ring of " << kCapacity;
  expect_whole(f, id_of(1));
}

TEST(FinishedRing, ConcurrentWritersAndReadersNeverSeeATornOrForeignEntry) { stress(64); }

TEST(FinishedRing, ConcurrentWritersInChunksNeverSeeATornOrForeignEntry) { stress(64 * FinishedRing::kChunk); }

}  // namespace
}  // namespace brisk::detail

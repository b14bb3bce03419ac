#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "trace/trace_buffer.hpp"

namespace brisk::trace {
namespace {

TEST(TraceBuffer, DrainsInRecordingOrder) {
  TraceBuffer buf(3, 8);
  EXPECT_TRUE(buf.record(TraceKind::kStart, 42, 7));
  EXPECT_TRUE(buf.record(TraceKind::kEnd, 42, 7));
  std::vector<TraceEvent> out;
  ASSERT_EQ(buf.drain(out), 2u);
  EXPECT_EQ(out[0].kind, TraceKind::kStart);
  EXPECT_EQ(out[1].kind, TraceKind::kEnd);
  EXPECT_EQ(out[0].task_id, 42u);
  EXPECT_EQ(out[0].arg, 7u);
  EXPECT_EQ(out[0].worker, 3);
  EXPECT_LE(out[0].ts_ns, out[1].ts_ns);
  EXPECT_EQ(buf.drain(out), 0u);
}

TEST(TraceBuffer, CapacityRoundsUpToPowerOfTwo) {
  EXPECT_EQ(TraceBuffer(0, 5).capacity(), 8u);
  EXPECT_EQ(TraceBuffer(0, 0).capacity(), 2u);
}

TEST(TraceBuffer, FullDropsNewestAndCounts) {
  TraceBuffer buf(0, 4);
  for (std::uint64_t i = 0; i < 6; ++i) buf.record(TraceEvent{i, i, 0, 0, TraceKind::kSubmit});
  EXPECT_EQ(buf.dropped(), 2u);
  std::vector<TraceEvent> out;
  ASSERT_EQ(buf.drain(out), 4u);
  for (std::uint64_t i = 0; i < 4; ++i) EXPECT_EQ(out[i].task_id, i);  // the oldest survive
  EXPECT_TRUE(buf.record(TraceEvent{9, 9, 0, 0, TraceKind::kSubmit}));  // room again
}

// One writer, one concurrent reader, a small ring so it wraps and fills
// often. Every event carries fields derived from its sequence number, so a
// torn or stale slot shows as a mismatch; sequence numbers must rise, and
// received + dropped must account for every record.
TEST(TraceBuffer, SpscStressNothingTornOrLost) {
  constexpr std::uint64_t kEvents = 2'000'000;
  TraceBuffer buf(1, 64);
  std::atomic<bool> writer_done{false};
  std::uint64_t accepted = 0;
  std::thread writer([&] {
    for (std::uint64_t i = 1; i <= kEvents; ++i) {
      const TraceEvent e{i * 3, i, static_cast<std::uint32_t>(i * 2654435761u), static_cast<std::uint16_t>(i),
                         static_cast<TraceKind>(i % 7)};
      accepted += buf.record(e) ? 1 : 0;
    }
    writer_done.store(true, std::memory_order_release);
  });
  std::vector<TraceEvent> got;
  std::uint64_t received = 0, last = 0;
  auto check = [&] {
    for (const TraceEvent& e : got) {
      ASSERT_GT(e.task_id, last);
      last = e.task_id;
      ASSERT_EQ(e.ts_ns, e.task_id * 3);
      ASSERT_EQ(e.arg, static_cast<std::uint32_t>(e.task_id * 2654435761u));
      ASSERT_EQ(e.worker, static_cast<std::uint16_t>(e.task_id));
      ASSERT_EQ(e.kind, static_cast<TraceKind>(e.task_id % 7));
    }
    received += got.size();
    got.clear();
  };
  while (!writer_done.load(std::memory_order_acquire)) {
    buf.drain(got);
    check();
    if (HasFatalFailure()) break;
  }
  writer.join();
  buf.drain(got);
  check();
  EXPECT_EQ(received, accepted);
  EXPECT_EQ(received + buf.dropped(), kEvents);
  EXPECT_GT(received, 0u);
}

}  // namespace
}  // namespace brisk::trace

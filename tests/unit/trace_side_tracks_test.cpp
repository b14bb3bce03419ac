// The trace's side tracks: producers' refusals (a lock-free multi-producer
// ring, under contention) and the log writer's batches and fsyncs, each
// checked against what the engine itself counted.
#include "brisk/brisk.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/eventually.hpp"
#include "trace/chrome_trace.hpp"
#include "trace/refusal_log.hpp"

namespace brisk {
namespace {

using namespace std::chrono_literals;
using trace::TraceEvent;
using trace::TraceKind;

// Producers record into a small ring while the reader drains it: every
// refusal comes out whole, each producer's in its order, or is counted as
// dropped; nothing else.
TEST(RefusalLog, ConcurrentProducersLoseNothingTheyDoNotCount) {
  constexpr int kProducers = 4;
  constexpr std::uint64_t kEach = 20'000;
  trace::RefusalLog log(256);
  std::atomic<int> done{0};
  std::atomic<bool> drained{false};  // the reader has freed slots once
  std::vector<TraceEvent> out;
  std::thread reader([&] {
    while (done.load(std::memory_order_acquire) < kProducers) {
      if (log.drain(out) > 0) drained = true;
      std::this_thread::yield();
    }
    log.drain(out);
  });
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      // count = 1, 2, ... : a drop adds its count, so the sums must match.
      for (std::uint64_t i = 1; i <= kEach; ++i) {
        // Halfway, wait for a drain (the ring holds something: only a full
        // ring drops), so that the second half reuses freed slots.
        if (i == kEach / 2) {
          while (!drained) std::this_thread::yield();
        }
        log.record(static_cast<std::uint32_t>(p), i);
      }
      done.fetch_add(1, std::memory_order_release);
    });
  }
  for (auto& t : producers) t.join();
  reader.join();

  std::uint64_t recorded = 0;
  std::vector<std::uint64_t> last(kProducers, 0);
  for (const TraceEvent& e : out) {
    ASSERT_EQ(e.kind, TraceKind::kRefused);
    ASSERT_EQ(e.worker, trace::kExternalWorker);
    ASSERT_LT(e.arg, static_cast<std::uint32_t>(kProducers));
    EXPECT_GT(e.task_id, last[e.arg]) << "producer " << e.arg << " out of order";
    last[e.arg] = e.task_id;
    recorded += e.task_id;
  }
  const std::uint64_t total = kProducers * kEach * (kEach + 1) / 2;
  EXPECT_EQ(recorded + log.dropped(), total);
  EXPECT_GT(out.size(), 256u) << "the reader freed slots for reuse";
}

TEST(RefusalLog, FullRingDropsAndCountsThenTakesAgainOnceDrained) {
  trace::RefusalLog log(4);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(log.record(1, 1));
  EXPECT_FALSE(log.record(1, 5));
  EXPECT_EQ(log.dropped(), 5u);
  std::vector<TraceEvent> out;
  EXPECT_EQ(log.drain(out), 4u);
  EXPECT_TRUE(log.record(2, 1));
  EXPECT_EQ(log.drain(out), 1u);
  EXPECT_EQ(out.back().arg, 2u);
}

// Written trace -> refused submissions by reason (SubmitStatus code).
std::map<std::uint32_t, std::uint64_t> refusals_in(const std::string& json) {
  std::map<std::uint32_t, std::uint64_t> by_reason;
  for (const TraceEvent& e : trace::read_chrome_trace(json)) {
    if (e.kind == TraceKind::kRefused) by_reason[e.arg] += e.task_id;
  }
  return by_reason;
}

std::uint32_t code(SubmitStatus s) { return static_cast<std::uint32_t>(s); }

EngineConfig traced_on_demand(unsigned workers, std::size_t events) {
  EngineConfig c;
  c.workers = workers;
  c.pin_workers = false;
  c.observability.trace_events_per_worker = events;
  c.observability.trace_from_start = false;
  return c;
}

TEST(TraceRefusals, EachRefusedSubmissionIsOnTheProducersTrackWithItsReason) {
  EngineConfig c = traced_on_demand(1, 1024);
  c.ring_capacity = 8;
  c.credits = 1;
  c.credit_chunk = 1;
  Engine engine(c);
  engine.register_task("t", [](TaskContext&) {});
  engine.start();
  // The one worker holds a job until released: the ring fills for certain.
  std::atomic<bool> running{false}, release{false};
  ASSERT_EQ(engine.post([&] {
    running = true;
    while (!release) std::this_thread::yield();
  }), SubmitStatus::accepted);
  ASSERT_TRUE(test::eventually([&] { return running.load(); }));
  ASSERT_EQ(engine.start_trace({.duration = 60s}), TraceStart::started);

  TaskOptions keyed;
  keyed.idempotency_key = "once";
  ASSERT_TRUE(engine.submit("t", "", keyed));
  EXPECT_EQ(engine.submit("t", "", keyed).status, SubmitStatus::duplicate);  // not a refusal
  Producer producer = engine.make_producer();
  ASSERT_EQ(producer.post([] {}), SubmitStatus::accepted);  // its one credit, held by the queued job
  EXPECT_EQ(producer.post([] {}), SubmitStatus::rejected_backpressure);
  EXPECT_EQ(producer.submit("t", "").status, SubmitStatus::rejected_backpressure);
  int full = 0;
  while (full < 3) {
    const SubmitStatus s = engine.post([] {});
    if (s == SubmitStatus::rejected_full) ++full;
    else ASSERT_EQ(s, SubmitStatus::accepted);
  }
  std::vector<std::function<void()>> bulk(5, [] {});
  const BulkResult b = engine.post_bulk(bulk.begin(), bulk.end());
  EXPECT_EQ(b.accepted, 0u);
  EXPECT_EQ(b.first_refusal, SubmitStatus::rejected_full);
  EXPECT_EQ(engine.submit("", "x").status, SubmitStatus::invalid);
  EXPECT_EQ(engine.submit("no such type", "x").status, SubmitStatus::invalid);
  EXPECT_EQ(engine.post([] {}, Priority{7}), SubmitStatus::invalid);
  const EngineStats s = engine.stats();
  release = true;
  engine.drain();
  engine.shutdown();
  EXPECT_EQ(engine.post([] {}), SubmitStatus::rejected_shutdown);
  std::ostringstream out;
  engine.write_trace(out);

  const auto by_reason = refusals_in(out.str());
  EXPECT_EQ(by_reason.count(code(SubmitStatus::duplicate)), 0u);
  EXPECT_EQ(by_reason.at(code(SubmitStatus::rejected_full)), 3u + 5u);
  EXPECT_EQ(by_reason.at(code(SubmitStatus::rejected_full)), s.rejected_full);
  EXPECT_EQ(by_reason.at(code(SubmitStatus::rejected_backpressure)), 2u);
  EXPECT_EQ(by_reason.at(code(SubmitStatus::rejected_backpressure)), s.rejected_backpressure);
  // The empty name is refused by the handle before the engine counts it.
  EXPECT_EQ(by_reason.at(code(SubmitStatus::invalid)), 1u + s.rejected_invalid);
  EXPECT_EQ(s.rejected_invalid, 2u);
  EXPECT_EQ(by_reason.at(code(SubmitStatus::rejected_shutdown)), 1u);
  // As a viewer shows them: "refused" instants on the producers' track,
  // named by reason.
  const nlohmann::json doc = nlohmann::json::parse(out.str());
  int bulk_events = 0;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] == "M" && e["tid"] == trace::kExternalWorker && e["name"] == "thread_name") {
      EXPECT_EQ(e["args"]["name"], "producers");
    }
    if (e.value("name", "") != "refused") continue;
    EXPECT_EQ(e["tid"], trace::kExternalWorker);
    if (e["args"]["submissions"] == 5) {
      ++bulk_events;
      EXPECT_EQ(e["args"]["reason"], "rejected_full");
    }
  }
  EXPECT_EQ(bulk_events, 1) << "a bulk post's refusal is one event for its five";
  EXPECT_EQ(doc["otherData"]["refusals_dropped"], 0);
}

TEST(TraceRefusals, NothingIsRecordedWhileTracingIsOff) {
  Engine engine(traced_on_demand(1, 64));
  engine.start();
  ASSERT_EQ(engine.start_trace({.duration = 60s}), TraceStart::started);
  engine.stop_trace();
  EXPECT_EQ(engine.submit("", "x").status, SubmitStatus::invalid);
  std::ostringstream out;
  engine.write_trace(out);
  EXPECT_TRUE(refusals_in(out.str()).empty());
}

class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("brisk-side-tracks-" + std::to_string(getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// With a log: one "log batch" slice per write the group commit made, whose
// records and bytes add up to the log's own totals, and "fdatasync" slices
// (each ended, the synced LSN growing) on the "log writer" track.
TEST(TraceLogWriter, BatchesAndFsyncsMatchTheLogsTotals) {
  TempDir dir;
  EngineConfig c = traced_on_demand(2, 4096);
  c.durability.wal_dir = dir.str();
  c.durability.fsync = FsyncPolicy::always;
  Engine engine(c);
  engine.register_task("t", [](TaskContext&) {});
  engine.start();
  const EngineStats before = engine.stats();
  ASSERT_EQ(engine.start_trace({.duration = 60s}), TraceStart::started);
  std::vector<SubmitResult> submitted;
  for (int i = 0; i < 300; ++i) {
    submitted.push_back(engine.submit("t", std::string(static_cast<std::size_t>(i % 50), 'x')));
    ASSERT_TRUE(submitted.back()) << i;
  }
  for (const SubmitResult& r : submitted) ASSERT_TRUE(engine.wait_durable(r));
  engine.drain();
  engine.shutdown();  // the writer writes and syncs the rest, and stops: the totals hold still
  const EngineStats after = engine.stats();
  std::ostringstream out;
  engine.write_trace(out);

  std::uint64_t batches = 0, records = 0, bytes = 0, syncs = 0, last_lsn = 0;
  bool open = false;
  for (const TraceEvent& e : trace::read_chrome_trace(out.str())) {
    if (e.worker != trace::kLogWriter) continue;
    switch (e.kind) {
      case TraceKind::kLogBatch:
        ASSERT_FALSE(open);
        open = true;
        ++batches;
        bytes += e.task_id;
        records += e.arg;
        break;
      case TraceKind::kFsync:
        ASSERT_FALSE(open);
        open = true;
        ++syncs;
        EXPECT_GT(e.task_id, last_lsn);
        last_lsn = e.task_id;
        break;
      case TraceKind::kLogEnd:
        ASSERT_TRUE(open);
        open = false;
        break;
      default:
        ADD_FAILURE() << "a task event on the log writer's track";
    }
  }
  EXPECT_FALSE(open);
  EXPECT_EQ(batches, after.wal_batches - before.wal_batches);
  EXPECT_EQ(records, after.wal_records - before.wal_records);
  EXPECT_EQ(bytes, after.wal_bytes - before.wal_bytes);
  EXPECT_GE(records, 300u);  // the submits, and the completions
  EXPECT_GE(syncs, 1u);
  EXPECT_LE(syncs, after.wal_syncs - before.wal_syncs);
  EXPECT_EQ(last_lsn, after.wal_records) << "the last sync covers every record (LSNs count from 1)";
  EXPECT_NE(out.str().find(R"("name":"thread_name","args":{"name":"log writer"})"), std::string::npos);
}

}  // namespace
}  // namespace brisk

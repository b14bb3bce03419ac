#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_seed.hpp"
#include "trace/chrome_trace.hpp"

namespace brisk::trace {
namespace {

// A plausible run: three workers run tasks one at a time (some stolen), each
// start carrying how long its task waited, and park between bursts.
// Timestamps are arbitrary steady-clock values with nanosecond detail.
std::vector<TraceEvent> synthetic_run(std::uint64_t seed, int tasks) {
  std::mt19937_64 rng(seed);
  std::vector<TraceEvent> ev;
  std::uint64_t worker_clock[3] = {1'000'000'007, 1'000'000'011, 1'000'000'013};
  for (int t = 1; t <= tasks; ++t) {
    const auto w = static_cast<std::uint16_t>(rng() % 3);
    std::uint64_t& now = worker_clock[w];
    if (rng() % 4 == 0) ev.push_back({now, 0, static_cast<std::uint32_t>((w + 1) % 3), w, TraceKind::kSteal});
    const auto waited = static_cast<std::uint32_t>(1 + rng() % 9'999);
    ev.push_back({now += 1 + rng() % 999, static_cast<std::uint64_t>(t), waited, w, TraceKind::kStart});
    ev.push_back({now += 1 + rng() % 99'999, static_cast<std::uint64_t>(t), 0, w, TraceKind::kEnd});
    if (rng() % 8 == 0) {
      ev.push_back({now += 3, 0, 0, w, TraceKind::kPark});
      ev.push_back({now += 1 + rng() % 50'000, 0, 0, w, TraceKind::kUnpark});
    }
  }
  return ev;
}

// read_chrome_trace(json) gives `events` back, as written: in time order,
// times relative to the earliest event written (a derived submit too); the
// derived submits are skipped.
void expect_reads_back(const std::vector<TraceEvent>& events, const std::string& json) {
  const std::vector<TraceEvent> back = read_chrome_trace(json);
  ASSERT_EQ(back.size(), events.size());
  std::vector<TraceEvent> sorted = events;
  std::stable_sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.ts_ns < b.ts_ns; });
  std::uint64_t origin = sorted.front().ts_ns;
  for (const TraceEvent& e : with_derived_submits(events)) origin = std::min(origin, e.ts_ns);
  for (std::size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].ts_ns, sorted[i].ts_ns - origin) << i;
    EXPECT_EQ(back[i].task_id, sorted[i].task_id) << i;
    EXPECT_EQ(back[i].arg, sorted[i].arg) << i;
    EXPECT_EQ(back[i].worker, sorted[i].worker) << i;
    EXPECT_EQ(back[i].kind, sorted[i].kind) << i;
  }
}

TEST(ChromeTrace, OneBeginAndOneEndPerTaskOnWorkerTracks) {
  constexpr int kTasks = 500;
  const auto events = synthetic_run(test::test_seed(), kTasks);
  std::ostringstream out;
  write_chrome_trace(out, events, {"brisk test"});
  const nlohmann::json doc = nlohmann::json::parse(out.str());
  ASSERT_TRUE(doc["traceEvents"].is_array());

  std::map<std::uint64_t, int> begins, ends, submits;
  std::map<std::uint64_t, double> begin_ts, submit_ts;
  std::map<int, std::string> thread_names;
  double last_ts = -1;
  for (const auto& e : doc["traceEvents"]) {
    const std::string ph = e["ph"];
    if (ph == "M") {
      if (e["name"] == "thread_name") thread_names[e["tid"].get<int>()] = e["args"]["name"];
      continue;
    }
    ASSERT_TRUE(e["ts"].is_number());
    const double ts = e["ts"];
    ASSERT_GE(ts, last_ts);  // merged in time order
    last_ts = ts;
    const auto task = e["args"]["task"].get<std::uint64_t>();
    if (ph == "B") {
      ++begins[task];
      begin_ts[task] = ts;
    }
    if (ph == "E") ++ends[task];
    if (ph == "i") {
      EXPECT_EQ(e["s"], "t");
      if (e["name"] == "submit") {
        ++submits[task];
        submit_ts[task] = ts;
      }
    }
  }
  ASSERT_EQ(begins.size(), static_cast<std::size_t>(kTasks));
  ASSERT_EQ(ends.size(), static_cast<std::size_t>(kTasks));
  for (const auto& [task, n] : begins) EXPECT_EQ(n, 1) << task;
  for (const auto& [task, n] : ends) EXPECT_EQ(n, 1) << task;
  // Each task's submit, derived from the wait its start carries.
  ASSERT_EQ(submits.size(), static_cast<std::size_t>(kTasks));
  for (const auto& [task, n] : submits) {
    EXPECT_EQ(n, 1) << task;
    EXPECT_LT(submit_ts[task], begin_ts[task]) << task;
  }
  EXPECT_EQ(thread_names.at(0), "worker 0");
  EXPECT_EQ(thread_names.at(2), "worker 2");
}

TEST(ChromeTrace, EachTaskHasAFlowArrowFromItsSubmitToItsStart) {
  constexpr int kTasks = 300;
  const auto events = synthetic_run(test::test_seed(), kTasks);
  std::ostringstream out;
  write_chrome_trace(out, events);
  const nlohmann::json doc = nlohmann::json::parse(out.str());
  std::map<std::uint64_t, double> submit_ts, begin_ts;  // by task
  std::map<std::uint64_t, int> begin_tid;
  std::map<std::uint64_t, std::pair<double, int>> flow_start, flow_finish;  // by flow id: ts, tid
  std::map<std::uint64_t, std::uint64_t> flow_task;  // the task whose submit opened the flow
  std::uint64_t last_submit_task = 0;
  for (const auto& e : doc["traceEvents"]) {
    const std::string ph = e["ph"];
    if (ph == "M") continue;
    const double ts = e["ts"];
    if (ph == "i" && e["name"] == "submit") {
      last_submit_task = e["args"]["task"];
      submit_ts[last_submit_task] = ts;
    } else if (ph == "B") {
      begin_ts[e["args"]["task"].get<std::uint64_t>()] = ts;
      begin_tid[e["args"]["task"].get<std::uint64_t>()] = e["tid"];
    } else if (ph == "s" || ph == "f") {
      EXPECT_EQ(e["cat"], "brisk.flow");
      EXPECT_EQ(e["name"], "queued");
      const auto id = e["id"].get<std::uint64_t>();
      if (ph == "s") {
        EXPECT_EQ(flow_start.count(id), 0u) << "flow id reused: " << id;
        flow_start[id] = {ts, e["tid"]};
        flow_task[id] = last_submit_task;  // written right after its submit
      } else {
        EXPECT_EQ(e["bp"], "e");
        flow_finish[id] = {ts, e["tid"]};
      }
    }
  }
  ASSERT_EQ(flow_start.size(), static_cast<std::size_t>(kTasks));
  ASSERT_EQ(flow_finish.size(), static_cast<std::size_t>(kTasks));
  for (const auto& [id, start] : flow_start) {
    const std::uint64_t task = flow_task[id];
    EXPECT_EQ(start.first, submit_ts[task]) << id;
    ASSERT_EQ(flow_finish.count(id), 1u) << id;
    EXPECT_EQ(flow_finish[id].first, begin_ts[task]) << "the arrow ends where the task's run begins";
    EXPECT_EQ(flow_finish[id].second, begin_tid[task]);
  }
}

TEST(ChromeTrace, EachStartGetsItsSubmitFromItsWait) {
  const std::vector<TraceEvent> ev{{5'000, 7, 1'200, 1, TraceKind::kStart}, {6'000, 7, 0, 1, TraceKind::kEnd},
                                   {6'000, 8, 0, 1, TraceKind::kStart}};
  const std::vector<TraceEvent> all = with_derived_submits(ev);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].kind, TraceKind::kSubmit);
  EXPECT_EQ(all[0].ts_ns, 3'800u);
  EXPECT_EQ(all[0].task_id, 7u);
  EXPECT_EQ(all[0].worker, 1u);
  EXPECT_EQ(all[3].kind, TraceKind::kSubmit);  // zero wait: still before its start
  EXPECT_EQ(all[3].ts_ns, 6'000u);
  EXPECT_EQ(all[4].kind, TraceKind::kStart);
}

TEST(ChromeTrace, TimestampsAreMicrosecondsWithNanosecondDecimals) {
  const std::vector<TraceEvent> ev{{5'000, 1, 0, 0, TraceKind::kStart}, {6'234, 1, 0, 0, TraceKind::kEnd}};
  std::ostringstream out;
  write_chrome_trace(out, ev);
  EXPECT_NE(out.str().find("\"ts\":0.000"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("\"ts\":1.234"), std::string::npos) << out.str();
}

TEST(ChromeTrace, ReadsBackWhatItWrote) {
  const auto events = synthetic_run(test::test_seed(), 200);
  std::ostringstream out;
  write_chrome_trace(out, events);
  expect_reads_back(events, out.str());
}

// The side tracks (the log writer's slices, producers' refusals) mixed in
// with a run: each on its own named track, with its own args, and read back
// as written (read(write(x)) == x holds for them too).
TEST(ChromeTrace, SideTracksAreTheirOwnTracksAndReadBack) {
  std::vector<TraceEvent> events = synthetic_run(test::test_seed(), 100);
  const std::string reasons[] = {"accepted", "rejected_full", "rejected_backpressure", "rejected_shutdown", "invalid"};
  std::map<std::string, int> expected;  // submissions refused, by reason
  std::uint64_t t = 1'000'000'100;
  for (std::uint64_t i = 1; i <= 20; ++i, t += 50'000) {
    expected[reasons[1 + i % 4]] += i % 3 == 0 ? 7 : 1;
    events.push_back({t, 4096 * i, static_cast<std::uint32_t>(3 * i), kLogWriter, TraceKind::kLogBatch});
    events.push_back({t + 700, 0, 0, kLogWriter, TraceKind::kLogEnd});
    events.push_back({t + 800, 1000 + i, 0, kLogWriter, TraceKind::kFsync});
    events.push_back({t + 20'000, 0, 0, kLogWriter, TraceKind::kLogEnd});
    events.push_back({t + 5, i % 3 == 0 ? 7u : 1u, static_cast<std::uint32_t>(1 + i % 4), kExternalWorker,
                      TraceKind::kRefused});
  }
  ChromeTraceOptions options;
  options.refusals_dropped = 12;
  options.log_writer_dropped = 3;
  std::ostringstream out;
  write_chrome_trace(out, events, options);

  const nlohmann::json doc = nlohmann::json::parse(out.str());
  std::map<int, std::string> names;
  int batches = 0, syncs = 0, ends = 0;
  std::map<std::string, int> refusals;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] == "M") {
      if (e["name"] == "thread_name") names[e["tid"].get<int>()] = e["args"]["name"];
      continue;
    }
    const int tid = e["tid"];
    if (e["name"] == "log batch") {
      ++batches;
      EXPECT_EQ(tid, kLogWriter);
      EXPECT_EQ(e["ph"], "B");
      EXPECT_EQ(e["args"]["bytes"].get<std::uint64_t>() % 4096, 0u);
      EXPECT_EQ(e["args"]["records"].get<std::uint64_t>() * 4096, 3 * e["args"]["bytes"].get<std::uint64_t>());
    } else if (e["name"] == "fdatasync") {
      ++syncs;
      EXPECT_EQ(tid, kLogWriter);
      EXPECT_GT(e["args"]["synced_lsn"].get<std::uint64_t>(), 1000u);
    } else if (e["name"] == "log end") {
      ++ends;
      EXPECT_EQ(e["ph"], "E");
    } else if (e["name"] == "refused") {
      EXPECT_EQ(tid, kExternalWorker);
      EXPECT_EQ(e["ph"], "i");
      refusals[e["args"]["reason"]] += e["args"]["submissions"].get<int>();
    }
  }
  EXPECT_EQ(batches, 20);
  EXPECT_EQ(syncs, 20);
  EXPECT_EQ(ends, 40);
  EXPECT_EQ(refusals, expected);
  EXPECT_EQ(names[kLogWriter], "log writer");
  EXPECT_EQ(names[kExternalWorker], "producers (12 refusals not recorded: ring full)");
  EXPECT_EQ(doc["otherData"]["refusals_dropped"], 12);
  EXPECT_EQ(doc["otherData"]["log_writer_events_dropped"], 3);
  expect_reads_back(events, out.str());
}

TEST(ChromeTrace, EscapesNamesAndHandlesEmpty) {
  std::ostringstream out;
  write_chrome_trace(out, std::vector<TraceEvent>{{1, 1, 0, 0, TraceKind::kStart}}, {"p\"q\\\n\x01"});
  const nlohmann::json doc = nlohmann::json::parse(out.str());
  EXPECT_EQ(doc["traceEvents"][0]["args"]["name"], "p\"q\\\n\x01");
  std::ostringstream empty;
  write_chrome_trace(empty, {});
  EXPECT_TRUE(read_chrome_trace(empty.str()).empty());
}

TEST(ChromeTrace, ReaderRejectsMalformedTraces) {
  EXPECT_THROW(read_chrome_trace("not json"), std::runtime_error);
  EXPECT_THROW(read_chrome_trace(R"({"events":[]})"), std::runtime_error);
  EXPECT_THROW(read_chrome_trace(R"({"traceEvents":[{"ph":"X","ts":1,"tid":0}]})"), std::runtime_error);
  EXPECT_THROW(read_chrome_trace(R"({"traceEvents":[{"ph":"i","name":"boom","ts":1,"tid":0}]})"),
               std::runtime_error);
  EXPECT_THROW(read_chrome_trace(R"({"traceEvents":[{"ph":"B","ts":"1","tid":0}]})"), std::runtime_error);
  EXPECT_THROW(read_chrome_trace(R"({"traceEvents":[{"ph":7}]})"), std::runtime_error);
}

// Numbers out of a field's range are refused, never cast: a float beyond an
// integer's range cast with static_cast is undefined behaviour (the fuzzer's
// find), and a wrapped value would read back as another task or worker.
TEST(ChromeTrace, ReaderRejectsNumbersOutOfTheirFieldsRange) {
  auto task_event = [](std::string_view ts, std::string_view tid, std::string_view task) {
    return std::string(R"({"traceEvents":[{"ph":"B","name":"task","ts":)") + std::string(ts) +
           R"(,"tid":)" + std::string(tid) + R"(,"args":{"task":)" + std::string(task) + "}}]}";
  };
  const auto ok = read_chrome_trace(task_event("1.5", "3", "42"));
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].ts_ns, 1500u);
  EXPECT_EQ(ok[0].worker, 3u);
  EXPECT_EQ(ok[0].task_id, 42u);
  EXPECT_THROW(read_chrome_trace(task_event("1", "0", "1e300")), std::runtime_error);
  EXPECT_THROW(read_chrome_trace(task_event("1", "0", "4.5")), std::runtime_error);
  EXPECT_THROW(read_chrome_trace(task_event("1", "0", "-1")), std::runtime_error);
  EXPECT_THROW(read_chrome_trace(task_event("1", "70000", "1")), std::runtime_error);
  EXPECT_THROW(read_chrome_trace(task_event("1", "2.0", "1")), std::runtime_error);
  EXPECT_THROW(read_chrome_trace(task_event("-1", "0", "1")), std::runtime_error);
  EXPECT_THROW(read_chrome_trace(task_event("1e300", "0", "1")), std::runtime_error);
  EXPECT_THROW(read_chrome_trace(R"({"traceEvents":[{"ph":"B","name":"task","ts":1,"tid":0,"args":[]}]})"),
               std::runtime_error);
  EXPECT_THROW(read_chrome_trace(
                   R"({"traceEvents":[{"ph":"i","name":"retry","ts":1,"tid":0,"args":{"arg":4294967296}}]})"),
               std::runtime_error);
}

}  // namespace
}  // namespace brisk::trace

// The profiler's endpoints on the engine's metrics server
// (/debug/brisk/snapshot and /debug/brisk/trace): absent when off, behind
// the token when one is set, one trace at a time, bounded in time and size.
// Each test starts an engine on 127.0.0.1, port 0.
#include "brisk/brisk.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <string>
#include <thread>

#include "http/bearer_token.hpp"
#include "http/debug_endpoints.hpp"
#include "support/eventually.hpp"

namespace brisk {
namespace {

using namespace std::chrono_literals;

EngineConfig debug_config(std::string token = "") {
  EngineConfig c;
  c.workers = 2;
  c.pin_workers = false;
  c.observability.metrics_port = 0;
  c.observability.debug_endpoints = true;
  c.observability.debug_token = std::move(token);
  c.observability.trace_events_per_worker = 1 << 15;
  c.observability.trace_from_start = false;
  return c;
}

httplib::Client client(std::uint16_t port, const std::string& token = "") {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60s);
  if (!token.empty()) c.set_bearer_token_auth(token);
  return c;
}
httplib::Client client(const Engine& engine, const std::string& token = "") {
  return client(engine.metrics_port(), token);
}

int begins_in(const std::string& trace) {
  const nlohmann::json doc = nlohmann::json::parse(trace);  // named: a range-for over a temporary's member dangles
  int n = 0;
  for (const auto& e : doc["traceEvents"]) n += e["ph"] == "B";
  return n;
}

TEST(DebugEndpoints, AbsentWhenOff) {
  EngineConfig c = debug_config();
  c.observability.debug_endpoints = false;
  Engine engine(c);
  engine.start();
  auto http = client(engine);
  EXPECT_EQ(http.Get("/metrics")->status, 200);
  EXPECT_EQ(http.Get("/debug/brisk/snapshot")->status, 404);
  EXPECT_EQ(http.Get("/debug/brisk/trace?seconds=1")->status, 404);
  EXPECT_FALSE(engine.tracing());
}

TEST(DebugEndpoints, TokenRequiredWhenConfigured) {
  Engine engine(debug_config("s3cret-token"));
  engine.start();
  EXPECT_EQ(client(engine).Get("/debug/brisk/snapshot")->status, 401);
  EXPECT_EQ(client(engine, "s3cret-tokeN").Get("/debug/brisk/snapshot")->status, 401);  // same length
  EXPECT_EQ(client(engine, "s3cret").Get("/debug/brisk/snapshot")->status, 401);        // a prefix
  EXPECT_EQ(client(engine, "s3cret-token-and-more").Get("/debug/brisk/snapshot")->status, 401);
  EXPECT_EQ(client(engine).Get("/debug/brisk/trace?seconds=1")->status, 401);
  EXPECT_FALSE(engine.tracing());  // a refused request starts nothing
  const auto ok = client(engine, "s3cret-token").Get("/debug/brisk/snapshot");
  ASSERT_EQ(ok->status, 200);
  EXPECT_EQ(nlohmann::json::parse(ok->body)["brisk_snapshot"], 1);
  EXPECT_EQ(client(engine).Get("/metrics")->status, 200);  // metrics stay open, as before
}

TEST(DebugEndpoints, BearerComparisonIsExact) {
  EXPECT_TRUE(http::bearer_matches("Bearer abc", "abc"));
  EXPECT_FALSE(http::bearer_matches("Bearer abd", "abc"));
  EXPECT_FALSE(http::bearer_matches("Bearer ab", "abc"));
  EXPECT_FALSE(http::bearer_matches("Bearer abcd", "abc"));
  EXPECT_FALSE(http::bearer_matches("bearer abc", "abc"));
  EXPECT_FALSE(http::bearer_matches("", "abc"));
}

TEST(DebugEndpoints, SnapshotMatchesStats) {
  Engine engine(debug_config());
  engine.start();
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(engine.post([] {}), SubmitStatus::accepted);
  engine.drain();
  const auto res = client(engine).Get("/debug/brisk/snapshot");
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  const nlohmann::json j = nlohmann::json::parse(res->body);
  EXPECT_EQ(j["stats"]["executed"], engine.stats().executed);
  EXPECT_EQ(j["stats"]["executed"], 1000);
}

TEST(DebugEndpoints, OneTraceAtATimeAndItHoldsWhatRan) {
  Engine engine(debug_config());
  engine.start();
  std::string first_body;
  int first_status = 0;
  std::thread first([&] {
    const auto res = client(engine).Get("/debug/brisk/trace?seconds=2");
    first_status = res ? res->status : -1;
    if (res) first_body = res->body;
  });
  ASSERT_TRUE(test::eventually([&] { return engine.tracing(); }));
  const auto second = client(engine).Get("/debug/brisk/trace?seconds=1");
  EXPECT_EQ(second->status, 409);  // at once, not queued behind the first
  EXPECT_NE(second->body.find("already"), std::string::npos) << second->body;
  EXPECT_EQ(client(engine).Get("/metrics")->status, 200);  // scrapes still answered
  for (int i = 0; i < 700; ++i) ASSERT_EQ(engine.post([] {}), SubmitStatus::accepted);
  engine.drain();
  first.join();
  ASSERT_EQ(first_status, 200) << first_body;
  EXPECT_EQ(begins_in(first_body), 700);
  EXPECT_FALSE(engine.tracing());
}

TEST(DebugEndpoints, BadSecondsAreRefusedWithTheBound) {
  Engine engine(debug_config());
  engine.start();
  auto http = client(engine);
  for (const char* bad : {"0", "61", "abc", "-1", "1.5", ""}) {
    const auto res = http.Get(std::string("/debug/brisk/trace?seconds=") + bad);
    EXPECT_EQ(res->status, 400) << bad;
    EXPECT_NE(res->body.find("1..60"), std::string::npos) << res->body;
  }
  EXPECT_FALSE(engine.tracing());
}

TEST(DebugEndpoints, ATraceIsBoundedInBytes) {
  EngineConfig c = debug_config();
  c.observability.max_trace_bytes = std::size_t{1} << 20;
  Engine engine(c);
  engine.start();
  std::atomic<bool> done{false};
  std::thread load([&] {
    while (!done.load()) {
      for (int i = 0; i < 256; ++i) (void)engine.post([] {});
      std::this_thread::sleep_for(100us);
    }
  });
  const auto res = client(engine).Get("/debug/brisk/trace?seconds=1");
  done = true;
  load.join();
  ASSERT_EQ(res->status, 200);
  EXPECT_LE(res->body.size(), c.observability.max_trace_bytes);
  const std::size_t bound = http::trace_events_within(c.observability.max_trace_bytes);
  std::size_t events = 0;
  const nlohmann::json doc = nlohmann::json::parse(res->body);
  for (const auto& e : doc["traceEvents"]) {
    const std::string ph = e["ph"];
    events += ph == "B" || ph == "E";
  }
  EXPECT_LE(events, bound);
  EXPECT_GT(events, 0u);
  EXPECT_TRUE(res->has_header("X-Brisk-Trace-Left-Out"));
}

TEST(DebugEndpoints, ShutdownEndsATraceInProgress) {
  auto engine = std::make_unique<Engine>(debug_config());
  engine->start();
  int status = 0;
  const std::uint16_t port = engine->metrics_port();  // read before shutdown() clears it
  std::thread t([&] {
    const auto res = client(port).Get("/debug/brisk/trace?seconds=60");
    status = res ? res->status : -1;
  });
  ASSERT_TRUE(test::eventually([&] { return engine->tracing(); }));
  const auto t0 = std::chrono::steady_clock::now();
  engine->shutdown();  // must not wait out the minute
  t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s);
  EXPECT_EQ(status, 503);
}

TEST(DebugEndpoints, BeyondLoopbackNeedsAToken) {
  EngineConfig c = debug_config();
  c.observability.metrics_host = "0.0.0.0";
  EXPECT_THROW(Engine{c}, ConfigError);
  c.observability.debug_token = "t";
  EXPECT_NO_THROW(Engine{c});
  c = debug_config();
  c.observability.metrics_port = -1;
  EXPECT_THROW(Engine{c}, ConfigError);
  c = debug_config();
  c.observability.max_trace_seconds = 0;
  EXPECT_THROW(Engine{c}, ConfigError);
}

}  // namespace
}  // namespace brisk

// The cluster's metrics, served by the engine's prometheus_text() (and so
// /metrics) from Worker::start() to stop(), checked against what happened
// on a real nats-server -js: the counts, the credits, the server's view.
#include <gtest/gtest.h>

#include <brisk/brisk.hpp>
#include <brisk/cluster.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "nats_server.hpp"
#include "support/prometheus_parser.hpp"

using namespace std::chrono_literals;
namespace bc = brisk::cluster;

namespace {

double value(const brisk::test::PromExposition& e, const std::string& family, const std::string& label = "",
             const std::string& label_value = "") {
  const brisk::test::PromFamily* f = e.family(family);
  if (f == nullptr) throw std::runtime_error("no family " + family);
  for (const auto& s : f->samples) {
    if (label.empty() || (s.label(label) != nullptr && *s.label(label) == label_value)) return s.value;
  }
  throw std::runtime_error("no sample " + family + "{" + label + "=" + label_value + "}");
}

TEST(ClusterMetrics, EngineServesTheWorkersCountsCreditsAndTheServersView) {
  brisk_test::NatsServer server;
  bc::ClientConfig cc;
  cc.servers = {server.url()};
  bc::Client client(cc);
  brisk::EngineConfig ec;
  ec.workers = 2;
  ec.pin_workers = false;
  brisk::Engine engine(ec);
  bc::Worker worker(client, engine);
  worker.register_task("ok", [](brisk::TaskContext&) {}, {}, {.max_in_flight = 16});
  brisk::TaskTypeOptions once;
  once.retry.max_attempts = 1;
  worker.register_task("bad", [](brisk::TaskContext&) { return brisk::Outcome::fail("no"); }, once);
  engine.start();
  EXPECT_EQ(engine.prometheus_text().find("brisk_cluster_"), std::string::npos) << "before Worker::start()";
  worker.start();

  constexpr int kTasks = 40;
  for (int i = 0; i < kTasks; ++i) ASSERT_TRUE(client.wait_durable(client.submit("ok", "x")));
  ASSERT_TRUE(client.wait_durable(client.submit("bad", "y")));
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while ((worker.stats().acked < kTasks || worker.stats().dead_lettered < 1) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(worker.stats().acked, static_cast<std::uint64_t>(kTasks));
  ASSERT_EQ(worker.stats().dead_lettered, 1u);

  brisk::test::PromExposition e;
  ASSERT_NO_THROW(e = brisk::test::parse_prometheus(engine.prometheus_text()));
  EXPECT_EQ(value(e, "brisk_cluster_connected"), 1);
  EXPECT_EQ(value(e, "brisk_cluster_server_answered"), 1);
  EXPECT_EQ(value(e, "brisk_cluster_acked_total"), kTasks);
  EXPECT_EQ(value(e, "brisk_cluster_dead_lettered_total"), 1);
  EXPECT_EQ(value(e, "brisk_cluster_fetched_total"), kTasks + 1);
  EXPECT_EQ(value(e, "brisk_cluster_publishes_in_flight"), 0);
  EXPECT_EQ(value(e, "brisk_cluster_in_flight", "type", "ok"), 0);
  EXPECT_EQ(value(e, "brisk_cluster_fetch_credits", "type", "ok"), 16);  // all free: the next fetch asks for 16
  EXPECT_EQ(value(e, "brisk_cluster_fetch_credits", "type", "bad"), 64);  // the default max_in_flight
  EXPECT_EQ(value(e, "brisk_cluster_dead_letters", "type", "bad"), 1);
  EXPECT_EQ(value(e, "brisk_cluster_consumer_pending", "consumer", cc.stream + "_ok"), 0);
  EXPECT_EQ(value(e, "brisk_cluster_consumer_ack_pending", "consumer", cc.stream + "_ok"), 0);
  EXPECT_EQ(value(e, "brisk_cluster_stream_messages"), 0);
  ASSERT_NE(e.family("brisk_jobs_accepted_total"), nullptr) << "the engine's own metrics stay";

  // A server that is away: the scrape answers at once from what this
  // process knows, and says the server did not answer.
  server.stop();
  const auto away = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < away &&
         brisk::test::parse_prometheus(client.prometheus_text()).family("brisk_cluster_connected")->samples.at(0).value != 0)
    std::this_thread::sleep_for(20ms);
  ASSERT_NO_THROW(e = brisk::test::parse_prometheus(engine.prometheus_text()));
  EXPECT_EQ(value(e, "brisk_cluster_connected"), 0);
  EXPECT_EQ(value(e, "brisk_cluster_server_answered"), 0);
  EXPECT_EQ(e.family("brisk_cluster_stream_messages"), nullptr);
  EXPECT_EQ(value(e, "brisk_cluster_acked_total"), kTasks);

  worker.stop();
  EXPECT_EQ(engine.prometheus_text().find("brisk_cluster_"), std::string::npos) << "after Worker::stop()";
  engine.shutdown();
}

}  // namespace

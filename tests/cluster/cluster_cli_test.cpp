// `brisk cluster ...` (tools/brisk/cluster) against a nats-server of the
// test's own: what an operator types, with the exit status and the output
// they read, checked against the streams through the library.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <brisk/brisk.hpp>
#include <brisk/cluster.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "nats_server.hpp"

using namespace std::chrono_literals;
namespace bc = brisk::cluster;

namespace {

struct Ran {
  int status = -1;  // the exit status
  std::string output;  // stdout and stderr
};

Ran brisk_cli(const std::string& args) {
  Ran ran;
  FILE* p = ::popen((std::string(BRISK_CLI) + " cluster " + args + " 2>&1").c_str(), "r");
  if (p == nullptr) return ran;
  std::array<char, 4096> buf{};
  for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;) ran.output.append(buf.data(), n);
  const int status = ::pclose(p);
  ran.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

TEST(ClusterCli, SubmitStoresOnceAndSaysSo) {
  brisk_test::NatsServer server;
  bc::Client client({.servers = {server.url()}});  // creates the streams, as a worker would
  const std::string at = "--server " + server.url() + " ";

  Ran first = brisk_cli(at + "submit email --payload hello --key order-42");
  EXPECT_EQ(first.status, 0) << first.output;
  EXPECT_NE(first.output.find("accepted: stream sequence 1"), std::string::npos) << first.output;
  Ran again = brisk_cli(at + "--json submit email --payload hello --key order-42");
  EXPECT_EQ(again.status, 0) << again.output;
  const auto answer = nlohmann::json::parse(again.output);
  EXPECT_EQ(answer["status"], "duplicate");
  EXPECT_EQ(answer["stream_sequence"], 1);
  EXPECT_EQ(client.stream_messages(), 1u);

  Ran status = brisk_cli(at + "--json status");
  EXPECT_EQ(status.status, 0) << status.output;
  EXPECT_EQ(nlohmann::json::parse(status.output)["messages"], 1);
}

TEST(ClusterCli, BadInputAndAMissingClusterAreClearErrors) {
  brisk_test::NatsServer server;
  bc::Client client({.servers = {server.url()}});
  const std::string at = "--server " + server.url() + " ";

  Ran typo = brisk_cli(at + "--stream NO_SUCH status");  // never creates a stream by mistake
  EXPECT_EQ(typo.status, 2) << typo.output;
  EXPECT_NE(typo.output.find("NO_SUCH does not exist"), std::string::npos) << typo.output;
  Ran bad_type = brisk_cli(at + "submit 'a b' --payload x");
  EXPECT_EQ(bad_type.status, 1) << bad_type.output;
  EXPECT_NE(bad_type.output.find("refused (invalid)"), std::string::npos) << bad_type.output;
  Ran bad_priority = brisk_cli(at + "submit email --priority 9");
  EXPECT_NE(bad_priority.status, 0) << bad_priority.output;
  EXPECT_EQ(client.stream_messages(), 0u);

  const std::string nobody = "nats://127.0.0.1:" + std::to_string(brisk_test::free_loopback_port());
  Ran away = brisk_cli("--server " + nobody + " status");
  EXPECT_EQ(away.status, 2) << away.output;
}

TEST(ClusterCli, DeadLettersAreListedReplayedAndPurged) {
  brisk_test::NatsServer server;
  bc::Client client({.servers = {server.url()}});
  const std::string at = "--server " + server.url() + " ";
  std::atomic<bool> healed{false};
  std::atomic<int> healed_runs{0};
  brisk::Engine engine({.workers = 1, .pin_workers = false});
  bc::Worker worker(client, engine);
  worker.register_task("charge", [&](brisk::TaskContext&) {
    if (!healed) return brisk::Outcome::fail("card declined");
    ++healed_runs;
    return brisk::Outcome::success();
  });
  engine.start();
  worker.start();
  ASSERT_TRUE(client.wait_durable(client.submit("charge", "order-7", {.idempotency_key = "charge-7"})));
  for (auto deadline = std::chrono::steady_clock::now() + 30s;
       worker.stats().dead_lettered == 0 && std::chrono::steady_clock::now() < deadline;)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(worker.stats().dead_lettered, 1u);

  Ran list = brisk_cli(at + "--json dlq list");
  ASSERT_EQ(list.status, 0) << list.output;
  const auto letter = nlohmann::json::parse(list.output);
  EXPECT_EQ(letter["type"], "charge");
  EXPECT_EQ(letter["idempotency_key"], "charge-7");
  EXPECT_EQ(letter["last_error"], "card declined");
  EXPECT_EQ(letter["payload_bytes"], 7);

  Ran unknown = brisk_cli(at + "dlq replay 999");
  EXPECT_EQ(unknown.status, 1) << unknown.output;
  EXPECT_NE(unknown.output.find("no such dead letter"), std::string::npos) << unknown.output;

  healed = true;
  Ran replay = brisk_cli(at + "dlq replay " + std::to_string(letter["sequence"].get<std::uint64_t>()));
  EXPECT_EQ(replay.status, 0) << replay.output;
  for (auto deadline = std::chrono::steady_clock::now() + 30s;
       healed_runs == 0 && std::chrono::steady_clock::now() < deadline;)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(healed_runs.load(), 1);
  EXPECT_TRUE(client.dead_letters().empty());

  // Purge: two more letters, one command.
  healed = false;
  ASSERT_TRUE(client.wait_durable(client.submit("charge", "a")));
  ASSERT_TRUE(client.wait_durable(client.submit("charge", "b")));
  for (auto deadline = std::chrono::steady_clock::now() + 30s;
       client.dead_letters().size() < 2 && std::chrono::steady_clock::now() < deadline;)
    std::this_thread::sleep_for(10ms);
  Ran status = brisk_cli(at + "--json status");
  ASSERT_EQ(status.status, 0) << status.output;
  const auto st = nlohmann::json::parse(status.output);
  EXPECT_EQ(st["dead_letters"], 2);
  EXPECT_EQ(st["dead_letters_by_type"]["charge"], 2);
  bool saw_consumer = false;  // the worker's consumer of "charge", drained
  for (const auto& c : st["consumers"])
    if (c["filter_subject"] == "brisk.tasks.charge") {
      saw_consumer = true;
      EXPECT_EQ(c["pending"], 0);
      EXPECT_EQ(c["ack_pending"], 0);
    }
  EXPECT_TRUE(saw_consumer) << status.output;
  Ran human = brisk_cli(at + "status");
  EXPECT_NE(human.output.find("charge"), std::string::npos) << human.output;

  Ran purge = brisk_cli(at + "dlq purge");
  EXPECT_EQ(purge.status, 0) << purge.output;
  EXPECT_NE(purge.output.find("purged 2 dead letters"), std::string::npos) << purge.output;
  EXPECT_TRUE(client.dead_letters().empty());
  worker.stop();
  engine.shutdown();
}

}  // namespace

// Three brisk_cluster_worker processes share one stream while the test
// kill -9s one of them again and again (and starts a fresh one in its
// place) and keeps submitting: every acknowledged submission must run, on
// some process, at least once. The expected state lives outside the workers:
// the keys the test got acknowledged, and the workers' own logs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <brisk/brisk.hpp>
#include <brisk/cluster.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "nats_server.hpp"
#include "support/test_seed.hpp"
#include "worker_process.hpp"

using namespace std::chrono_literals;
namespace bc = brisk::cluster;

namespace {

TEST(ClusterCrashLoop, EveryAcknowledgedTaskRunsWhileWorkersAreKilled) {
  brisk_test::NatsServer server;
  bc::ClientConfig cc;
  cc.servers = {server.url()};
  bc::Client client(cc);
  std::mt19937_64 random(brisk::test::test_seed());

  // CI kills 8 times; BRISK_CLUSTER_KILLS=300 is the long run (docs/cluster.md),
  // with as many tasks per kill so the workers are busy at every one.
  const char* kills_env = std::getenv("BRISK_CLUSTER_KILLS");
  const int kKills = kills_env != nullptr ? std::max(1, std::atoi(kills_env)) : 8;
  constexpr int kProcesses = 3;
  const int kTasks = 500 * kKills;
  std::vector<std::string> logs;  // one per incarnation, never reused
  std::vector<pid_t> workers;
  auto start_worker = [&] {
    logs.push_back(server.dir() + "/worker-" + std::to_string(logs.size()) + ".log");
    const pid_t pid = brisk_test::spawn_cluster_worker(server.url(), logs.back());
    if (pid <= 0) throw std::runtime_error("fork failed");
    return pid;
  };
  for (int i = 0; i < kProcesses; ++i) workers.push_back(start_worker());

  // The producer submits while the workers die: keys acknowledged by
  // JetStream are the tasks that must run.
  std::vector<std::string> acknowledged;
  std::thread producer([&] {
    std::vector<std::pair<std::string, brisk::SubmitResult>> pending;
    for (int i = 0; i < kTasks; ++i) {
      std::string key = "k" + std::to_string(i);
      brisk::SubmitResult r = client.submit("work", "x", {.idempotency_key = key});
      while (r.status == brisk::SubmitStatus::rejected_backpressure) {  // too many publishes in flight
        std::this_thread::sleep_for(1ms);
        r = client.submit("work", "x", {.idempotency_key = key});
      }
      pending.emplace_back(std::move(key), r);
      if (i % 200 == 199) std::this_thread::sleep_for(50ms);  // spread over the kill loop
    }
    for (auto& [key, r] : pending)
      if (client.wait_durable(r)) acknowledged.push_back(key);
  });

  std::vector<std::size_t> log_of(workers.size());  // workers[i] writes logs[log_of[i]]
  for (std::size_t i = 0; i < workers.size(); ++i) log_of[i] = i;
  int kills_under_load = 0;  // the victim had run tasks and work was left in the stream
  for (int k = 0; k < kKills; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + random() % 400));
    const std::size_t victim = random() % workers.size();
    if (client.stream_messages() > 0 && !brisk_test::read_lines(logs[log_of[victim]]).empty()) ++kills_under_load;
    ::kill(workers[victim], SIGKILL);
    int status = 0;
    ::waitpid(workers[victim], &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "worker exited by itself (see its stderr above)";
    workers[victim] = start_worker();
    log_of[victim] = logs.size() - 1;
  }
  producer.join();
  ASSERT_EQ(acknowledged.size(), static_cast<std::size_t>(kTasks)) << "a submission was refused by a healthy server";

  bool drained = false;
  for (auto deadline = std::chrono::steady_clock::now() + 90s + kKills * 1s; std::chrono::steady_clock::now() < deadline;) {
    if ((drained = client.stream_messages() == 0)) break;
    std::this_thread::sleep_for(20ms);
  }
  for (const pid_t pid : workers) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  ASSERT_TRUE(drained) << client.stream_messages() << " tasks still in the stream";

  std::map<std::string, int> runs;
  std::size_t executions = 0;
  std::size_t redelivered = 0;  // attempt > 1: fetched by a process that died before acknowledging
  for (const auto& path : logs)
    for (const auto& line : brisk_test::read_lines(path)) {
      const std::size_t space = line.find(' ');
      ++runs[line.substr(0, space)];
      ++executions;
      if (std::stoul(line.substr(space + 1)) > 1) ++redelivered;
    }
  std::size_t lost = 0;
  for (const auto& key : acknowledged)
    if (runs.count(key) == 0 && ++lost <= 5) ADD_FAILURE() << "acknowledged task " << key << " never ran";
  EXPECT_EQ(lost, 0u);
  EXPECT_GT(kills_under_load, 0) << "no kill hit a busy worker: the test proved nothing";
  EXPECT_GT(redelivered, 0u) << "no killed worker held a fetched task: the test proved nothing";
  std::printf("crash loop: %d kills (%d of a busy worker), %zu incarnations, %zu executions for %d tasks; "
              "%zu redelivered after a kill, %zu ran more than once (finished, ack lost with its process)\n",
              kKills, kills_under_load, logs.size(), executions, kTasks, redelivered, executions - runs.size());
}

}  // namespace

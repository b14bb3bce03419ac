// brisk::cluster against a real nats-server -js that each test starts on
// loopback (tests/cluster/nats_server.hpp). Generous deadlines, no timing
// asserts: a deadline only bounds how long a test waits for what must happen.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <brisk/brisk.hpp>
#include <brisk/cluster.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "nats_server.hpp"
#include "worker_process.hpp"

using namespace std::chrono_literals;
namespace bc = brisk::cluster;

namespace {

bool eventually(const std::function<bool()>& done, std::chrono::seconds limit = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

bc::ClientConfig client_config(const brisk_test::NatsServer& server) {
  bc::ClientConfig c;
  c.servers = {server.url()};
  return c;
}

brisk::EngineConfig small_engine() {
  brisk::EngineConfig c;
  c.workers = 2;
  c.pin_workers = false;
  return c;
}

// One in-process node: a local engine and a cluster worker.
struct Node {
  Node(bc::Client& client, bc::WorkerConfig wc = {}) : engine(small_engine()), worker(client, engine, wc) {}
  void start() {
    engine.start();
    worker.start();
  }
  ~Node() {
    worker.stop();
    engine.shutdown();
  }
  brisk::Engine engine;
  bc::Worker worker;
};

TEST(Cluster, SubmitConsumeAck) {
  brisk_test::NatsServer server;
  bc::Client client(client_config(server));
  Node node(client);
  std::mutex mu;
  std::multiset<std::string> seen;
  node.worker.register_task("echo", [&](brisk::TaskContext& task) {
    EXPECT_EQ(task.attempt(), 1u);
    std::lock_guard lock(mu);
    seen.insert(std::string(task.payload()));
  });
  node.start();

  constexpr int kTasks = 200;
  std::vector<brisk::SubmitResult> results;
  for (int i = 0; i < kTasks; ++i) {
    results.push_back(client.submit("echo", "task-" + std::to_string(i)));
    ASSERT_TRUE(results.back().accepted()) << brisk::to_string(results.back().status);
    ASSERT_NE(results.back().durable_ticket, 0u);
  }
  for (const auto& r : results) {
    ASSERT_TRUE(client.wait_durable(r)) << client.answer(r).reason;
    EXPECT_TRUE(client.is_durable(r));
    EXPECT_EQ(client.answer(r).status, brisk::SubmitStatus::accepted);
    EXPECT_GT(client.answer(r).stream_sequence, 0u);
  }
  ASSERT_TRUE(eventually([&] { return node.worker.stats().acked == kTasks; }));
  ASSERT_TRUE(eventually([&] { return client.stream_messages() == 0; })) << "acked tasks left the work queue";
  std::lock_guard lock(mu);
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kTasks));
  for (int i = 0; i < kTasks; ++i) EXPECT_EQ(seen.count("task-" + std::to_string(i)), 1u);
}

TEST(Cluster, RefusalsAreExplicit) {
  brisk_test::NatsServer server;
  bc::Client client(client_config(server));
  const brisk::SubmitResult bad = client.submit("no.dots", "x");
  EXPECT_EQ(bad.status, brisk::SubmitStatus::invalid);
  EXPECT_FALSE(bad.reason.empty());
  const brisk::SubmitResult bad_key = client.submit("t", "x", {.idempotency_key = "a\r\nb"});
  EXPECT_EQ(bad_key.status, brisk::SubmitStatus::invalid);
}

TEST(Cluster, RetryIsRedeliveredWithBackoff) {
  brisk_test::NatsServer server;
  bc::Client client(client_config(server));
  Node node(client);
  std::mutex mu;
  std::vector<std::uint32_t> attempts;
  brisk::TaskTypeOptions options;
  options.retry.max_attempts = 4;
  options.retry.base = 20ms;
  node.worker.register_task(
      "flaky",
      [&](brisk::TaskContext& task) {
        std::lock_guard lock(mu);
        attempts.push_back(task.attempt());
        return task.attempt() < 2 ? brisk::Outcome::retry("not yet") : brisk::Outcome::success();
      },
      options);
  node.start();
  ASSERT_TRUE(client.wait_durable(client.submit("flaky", "p")));
  ASSERT_TRUE(eventually([&] { return node.worker.stats().acked == 1; }));
  std::lock_guard lock(mu);
  EXPECT_EQ(attempts, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_GE(node.worker.stats().naked, 1u);
  EXPECT_EQ(node.worker.stats().dead_lettered, 0u);
}

TEST(Cluster, PoisonTaskIsDeadLetteredAfterMaxAttempts) {
  brisk_test::NatsServer server;
  bc::Client client(client_config(server));
  std::atomic<int> poison_runs{0};
  std::atomic<int> bad_runs{0};
  std::atomic<bool> healed{false};
  std::atomic<int> healed_runs{0};
  {
    Node node(client);
    brisk::TaskTypeOptions options;
    options.retry.max_attempts = 3;
    options.retry.base = 10ms;
    node.worker.register_task(
        "poison",
        [&](brisk::TaskContext&) {
          if (healed) {
            ++healed_runs;
            return brisk::Outcome::success();
          }
          ++poison_runs;
          throw std::runtime_error("always broken");
          return brisk::Outcome::success();
        },
        options);
    node.worker.register_task(
        "bad_input",
        [&](brisk::TaskContext&) {
          ++bad_runs;
          return brisk::Outcome::fail("cannot parse");
        },
        options);
    node.start();
    ASSERT_TRUE(client.wait_durable(client.submit("poison", "p", {.idempotency_key = "poison-1"})));
    ASSERT_TRUE(client.wait_durable(client.submit("bad_input", "b")));
    ASSERT_TRUE(eventually([&] { return node.worker.stats().dead_lettered == 2; }));
    // Never an endless loop: nothing more runs once it is a dead letter.
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(poison_runs.load(), 3);
    EXPECT_EQ(bad_runs.load(), 1);
    EXPECT_EQ(client.stream_messages(), 0u);

    const std::vector<bc::ClusterDeadLetter> letters = client.dead_letters();
    ASSERT_EQ(letters.size(), 2u);
    std::map<std::string, bc::ClusterDeadLetter> by_type;
    for (const auto& l : letters) by_type[l.type] = l;
    EXPECT_EQ(by_type["poison"].attempts, 3u);
    EXPECT_EQ(by_type["poison"].payload, "p");
    EXPECT_EQ(by_type["poison"].idempotency_key, "poison-1");
    EXPECT_EQ(by_type["poison"].last_error, "always broken");
    EXPECT_EQ(by_type["bad_input"].attempts, 1u);
    EXPECT_EQ(by_type["bad_input"].last_error, "cannot parse");

    // Replayable from any node: here, the same client; it runs as a fresh task.
    healed = true;
    const brisk::SubmitResult replay = client.replay_dead_letter(by_type["poison"].sequence);
    ASSERT_TRUE(replay.accepted()) << replay.reason;
    ASSERT_TRUE(eventually([&] { return healed_runs.load() == 1; }));
    EXPECT_EQ(client.dead_letters().size(), 1u);
    EXPECT_EQ(client.purge_dead_letters(), 1u);
    EXPECT_TRUE(client.dead_letters().empty());
  }
}

TEST(Cluster, DuplicateKeyRunsOnce) {
  brisk_test::NatsServer server;
  bc::Client client(client_config(server));
  Node node(client);
  std::atomic<int> runs{0};
  node.worker.register_task("charge", [&](brisk::TaskContext& task) {
    EXPECT_EQ(task.idempotency_key(), "order-42");
    ++runs;
  });
  node.start();
  std::vector<brisk::SubmitResult> results;
  for (int i = 0; i < 5; ++i) results.push_back(client.submit("charge", "42 EUR", {.idempotency_key = "order-42"}));
  int accepted = 0;
  int duplicate = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.accepted());
    ASSERT_TRUE(client.wait_durable(r));  // a duplicate is stored: the first copy is
    const bc::PublishAnswer a = client.answer(r);
    accepted += a.status == brisk::SubmitStatus::accepted;
    duplicate += a.status == brisk::SubmitStatus::duplicate;
  }
  EXPECT_EQ(accepted, 1);
  EXPECT_EQ(duplicate, 4);
  ASSERT_TRUE(eventually([&] { return node.worker.stats().acked >= 1; }));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(runs.load(), 1);
}

TEST(Cluster, DelayedTaskWaitsInTheStreamAndKeepsItsAttempts) {
  brisk_test::NatsServer server;
  bc::Client client(client_config(server));
  Node node(client);
  std::atomic<int> runs{0};
  std::atomic<std::uint32_t> attempt{0};
  std::atomic<std::int64_t> ran_at{0};
  node.worker.register_task("later", [&](brisk::TaskContext& task) {
    attempt = task.attempt();
    ran_at = std::chrono::system_clock::now().time_since_epoch().count();
    ++runs;
  });
  node.start();
  const auto submitted = std::chrono::system_clock::now();
  const brisk::SubmitResult r = client.submit("later", "x", {.delay = 1500ms});
  ASSERT_TRUE(client.wait_durable(r));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(runs.load(), 0);
  EXPECT_EQ(client.stream_messages(), 1u) << "a delayed task waits in the stream";
  ASSERT_TRUE(eventually([&] { return runs.load() == 1; }));
  // Never before its due time (a lower bound, not a timing assert), and the
  // early deliveries were not counted as attempts.
  EXPECT_GE(ran_at.load(), (submitted + 1500ms).time_since_epoch().count());
  EXPECT_EQ(attempt.load(), 1u);
  EXPECT_GE(node.worker.stats().delayed_promoted, 1u);
  ASSERT_TRUE(eventually([&] { return client.stream_messages() == 0; }));
}

TEST(Cluster, StreamAtItsLimitsRefuses) {
  brisk_test::NatsServer server;
  bc::ClientConfig config = client_config(server);
  config.max_msgs = 5;
  bc::Client client(config);
  int stored = 0;
  int full = 0;
  for (int i = 0; i < 8; ++i) {
    const brisk::SubmitResult r = client.submit("t", "x");
    ASSERT_TRUE(r.accepted());
    if (client.wait_durable(r)) {
      ++stored;
    } else {
      const bc::PublishAnswer a = client.answer(r);
      EXPECT_EQ(a.status, brisk::SubmitStatus::rejected_full) << a.reason;
      EXPECT_FALSE(a.reason.empty());
      ++full;
    }
  }
  EXPECT_EQ(stored, 5);
  EXPECT_EQ(full, 3);
}

TEST(Cluster, ServerAwayAndPublishTimeoutAreRefused) {
  brisk_test::NatsServer server;
  bc::ClientConfig config = client_config(server);
  config.publish_timeout = 500ms;
  bc::Client client(config);
  ASSERT_TRUE(client.wait_durable(client.submit("t", "before")));
  // A server that stops answering: the publish times out.
  ::kill(server.pid(), SIGSTOP);
  const brisk::SubmitResult r = client.submit("t", "while paused");
  ASSERT_TRUE(r.accepted());
  EXPECT_FALSE(client.wait_durable(r));
  EXPECT_EQ(client.answer(r).status, brisk::SubmitStatus::durability_failed);
  EXPECT_NE(client.answer(r).reason.find("not acknowledged"), std::string_view::npos) << client.answer(r).reason;
  ::kill(server.pid(), SIGCONT);
  // A server that is gone: refused at once once the client knows. Until it
  // knows, submissions are accepted into the in-flight window and, once that
  // is full, refused rejected_backpressure (slow runs, e.g. under TSan): both
  // explicit, neither the answer this waits for.
  server.stop();
  brisk::SubmitResult away;
  ASSERT_TRUE(eventually([&] {
    away = client.submit("t", "while away");
    return away.status == brisk::SubmitStatus::durability_failed;
  }));
  EXPECT_EQ(away.status, brisk::SubmitStatus::durability_failed);
  EXPECT_NE(away.reason.find("not connected"), std::string_view::npos) << away.reason;
  // It comes back (same store, same port): submissions work again.
  server.start();
  ASSERT_TRUE(eventually([&] {
    const brisk::SubmitResult again = client.submit("t", "after");
    return again.accepted() && client.wait_durable(again);
  }));
}

TEST(Cluster, AcknowledgedTasksSurviveKillOfTheServer) {
  brisk_test::NatsServer server;
  constexpr int kTasks = 500;
  {
    bc::Client client(client_config(server));
    std::vector<brisk::SubmitResult> results;
    for (int i = 0; i < kTasks; ++i) results.push_back(client.submit("t", "payload " + std::to_string(i)));
    for (const auto& r : results) ASSERT_TRUE(client.wait_durable(r));
    server.kill9();  // right after the last acknowledgement
  }
  server.start();
  // The server needs a moment to recover its store before it answers.
  std::unique_ptr<bc::Client> client;
  ASSERT_TRUE(eventually([&] {
    try {
      client = std::make_unique<bc::Client>(client_config(server));
      return true;
    } catch (const bc::ClusterError&) {
      return false;
    }
  }));
  EXPECT_EQ(client->stream_messages(), static_cast<std::uint64_t>(kTasks));
}

TEST(Cluster, LongTaskKeepsItsLeaseWithInProgressAcks) {
  brisk_test::NatsServer server;
  bc::Client client(client_config(server));
  bc::WorkerConfig wc;
  wc.ack_wait = 600ms;
  Node node(client, wc);
  std::atomic<int> runs{0};
  node.worker.register_task("slow", [&](brisk::TaskContext&) {
    ++runs;
    std::this_thread::sleep_for(2s);  // over three times the lease
  });
  node.start();
  ASSERT_TRUE(client.wait_durable(client.submit("slow", "x")));
  ASSERT_TRUE(eventually([&] { return node.worker.stats().acked == 1; }));
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(node.worker.stats().redelivered, 0u);
  EXPECT_GT(node.worker.stats().in_progress_sent, 0u);
}

// A handler that defers (TaskContext::defer) frees its worker; the message is
// settled when its handle completes, from another thread, and keeps its lease
// (in-progress acks from the worker's thread) meanwhile.
TEST(Cluster, DeferredHandlerSettlesFromAnotherThreadAndKeepsItsLease) {
  brisk_test::NatsServer server;
  bc::Client client(client_config(server));
  bc::WorkerConfig wc;
  wc.ack_wait = 600ms;
  brisk::EngineConfig one_worker = small_engine();
  one_worker.workers = 1;
  brisk::Engine engine(one_worker);
  bc::Worker worker(client, engine, wc);
  std::mutex mu;
  std::vector<std::pair<std::string, brisk::DeferredOutcome>> held;  // payload, handle
  std::multiset<std::string> attempts;                               // payload@attempt
  std::chrono::steady_clock::time_point retried_at, redelivered_at;
  brisk::TaskTypeOptions options;
  options.retry.max_attempts = 3;
  options.retry.base = 20ms;
  worker.register_task("io", [&](brisk::TaskContext& task) {
    std::lock_guard lock(mu);
    attempts.insert(std::string(task.payload()) + "@" + std::to_string(task.attempt()));
    if (task.attempt() == 2) redelivered_at = std::chrono::steady_clock::now();
    held.emplace_back(std::string(task.payload()), task.defer());
  }, options);
  engine.start();
  worker.start();
  for (const char* p : {"a", "b", "c", "again"}) ASSERT_TRUE(client.wait_durable(client.submit("io", p)));
  // One worker, four tasks in flight: none of them holds it.
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return held.size() == 4;
  }));
  std::this_thread::sleep_for(2s);  // over three leases
  std::thread completer([&] {
    std::lock_guard lock(mu);
    for (auto& [payload, done] : held) {
      if (payload == "again") retried_at = std::chrono::steady_clock::now();
      // A nak with this delay, not the 20 ms backoff.
      EXPECT_TRUE(payload == "again" ? done.retry_after(500ms, "later") : done.succeed());
    }
    held.clear();
  });
  completer.join();
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return held.size() == 1;  // "again", redelivered
  }));
  std::thread([&] {
    std::lock_guard lock(mu);
    EXPECT_TRUE(held[0].second.succeed());
  }).join();
  ASSERT_TRUE(eventually([&] { return worker.stats().acked == 4; }));
  const bc::Worker::Stats s = worker.stats();
  EXPECT_EQ(s.naked, 1u);
  EXPECT_EQ(s.redelivered, 1u) << "only the retry: the leases of deferred tasks held";
  EXPECT_GT(s.in_progress_sent, 0u);
  std::lock_guard lock(mu);
  EXPECT_EQ(attempts, (std::multiset<std::string>{"a@1", "b@1", "c@1", "again@1", "again@2"}));
  EXPECT_GE(redelivered_at - retried_at, 500ms) << "redelivered before its retry_after delay";
  worker.stop();
  engine.shutdown();
}

// ---- kill -9 of a worker process under load ----

TEST(Cluster, KilledWorkersTasksAreRedeliveredToAnother) {
  brisk_test::NatsServer server;
  bc::Client client(client_config(server));
  constexpr int kTasks = 600;
  std::vector<brisk::SubmitResult> results;
  for (int i = 0; i < kTasks; ++i)
    results.push_back(client.submit("work", "x", {.idempotency_key = "k" + std::to_string(i)}));
  for (const auto& r : results) ASSERT_TRUE(client.wait_durable(r));

  const std::string log_a = server.dir() + "/worker-a.log";
  const std::string log_b = server.dir() + "/worker-b.log";
  const pid_t a = brisk_test::spawn_cluster_worker(server.url(), log_a);
  ASSERT_GT(a, 0);
  bool a_died = false;
  ASSERT_TRUE(eventually([&] {
    a_died = ::waitpid(a, nullptr, WNOHANG) == a;
    return a_died || brisk_test::read_lines(log_a).size() >= 100;
  }));
  ASSERT_FALSE(a_died) << "worker A exited by itself (see its stderr above)";
  ::kill(a, SIGKILL);  // mid-load: up to 32 tasks fetched and not acknowledged
  int status = 0;
  ::waitpid(a, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  const std::size_t done_by_a = brisk_test::read_lines(log_a).size();
  ASSERT_LT(done_by_a, static_cast<std::size_t>(kTasks)) << "worker A finished everything before the kill";

  const pid_t b = brisk_test::spawn_cluster_worker(server.url(), log_b);
  ASSERT_GT(b, 0);
  const bool drained = eventually([&] { return client.stream_messages() == 0; }, 60s);
  ::kill(b, SIGKILL);
  ::waitpid(b, nullptr, 0);
  ASSERT_TRUE(drained) << client.stream_messages() << " tasks still in the stream";

  std::set<std::string> done;
  std::size_t executions = 0;
  std::size_t redelivered_to_b = 0;
  for (const auto& path : {log_a, log_b}) {
    for (const auto& line : brisk_test::read_lines(path)) {
      const std::size_t space = line.find(' ');
      done.insert(line.substr(0, space));
      ++executions;
      if (path == log_b && std::stoul(line.substr(space + 1)) > 1) ++redelivered_to_b;
    }
  }
  // A's fetched, unacknowledged tasks came back to B once their lease expired.
  EXPECT_GT(redelivered_to_b, 0u);
  for (int i = 0; i < kTasks; ++i) EXPECT_EQ(done.count("k" + std::to_string(i)), 1u) << "lost k" << i;
  std::printf("kill -9: A finished %zu before the kill; B ran %zu of A's after their lease expired; %zu executions "
              "for %d tasks (%zu twice: finished by A, ack lost with it)\n",
              done_by_a, redelivered_to_b, executions, kTasks, executions - done.size());
}

}  // namespace

namespace {

// A handler past its type's hard_timeout loses its message: the attempt
// ends as a retry (another attempt runs, on a free local worker here) or,
// when it was the last, as a dead letter naming the limit; the overrunning
// handler is asked to stop, and what it returns afterwards is ignored.
TEST(Cluster, HardTimeLimitGivesTheMessageUpAndRetriesIt) {
  brisk_test::NatsServer server;
  bc::Client client(client_config(server));
  Node node(client);
  brisk::TaskTypeOptions options;
  options.hard_timeout = 300ms;
  options.retry.max_attempts = 2;
  options.retry.base = 10ms;
  std::atomic<int> runs{0};
  std::atomic<bool> first_saw_cancel{false};
  std::atomic<bool> first_returned{false};
  const auto overrun_once = [&](brisk::TaskContext& task) {
    ++runs;
    if (task.attempt() == 1) {
      // Stuck until told to stop, then late: its success must not count.
      while (!task.cancellation_requested()) std::this_thread::sleep_for(5ms);
      first_saw_cancel = true;
      std::this_thread::sleep_for(200ms);
      first_returned = true;
    }
    return brisk::Outcome::success();
  };
  node.worker.register_task("slow", overrun_once, options);
  brisk::TaskTypeOptions last = options;
  last.retry.max_attempts = 1;
  node.worker.register_task("slow_last", [&](brisk::TaskContext& task) {
    while (!task.cancellation_requested()) std::this_thread::sleep_for(5ms);
    return brisk::Outcome::success();
  }, last);
  node.start();

  ASSERT_TRUE(client.wait_durable(client.submit("slow", "s")));
  ASSERT_TRUE(eventually([&] { return node.worker.stats().acked == 1 && first_returned.load(); }));
  EXPECT_EQ(runs.load(), 2);
  EXPECT_TRUE(first_saw_cancel.load());
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(node.worker.stats().acked, 1u) << "the overrun attempt's late success is ignored";
  EXPECT_EQ(node.worker.stats().hard_timeouts, 1u);
  EXPECT_EQ(node.worker.stats().dead_lettered, 0u);

  ASSERT_TRUE(client.wait_durable(client.submit("slow_last", "t")));
  ASSERT_TRUE(eventually([&] { return node.worker.stats().dead_lettered == 1; }));
  const std::vector<bc::ClusterDeadLetter> letters = client.dead_letters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].type, "slow_last");
  EXPECT_EQ(letters[0].last_error, "hard time limit of 300 ms exceeded");
  ASSERT_TRUE(eventually([&] { return client.stream_messages() == 0; }));
}

}  // namespace

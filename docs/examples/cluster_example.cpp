// Two worker processes and one producer sharing one task stream on NATS
// JetStream (docs/cluster.md). Try it:
//
//   nats-server -js -a 127.0.0.1 &
//   cluster_example worker &              # as many as you like, on any machine
//   cluster_example worker &
//   cluster_example produce 1000          # exits once JetStream stored all 1000
//   kill %2 %3                            # each worker says how many it ran
//
// Kill a worker with -9 while it runs: the tasks it had fetched come back to
// the other one after their lease (ack_wait); none is lost.
#include <brisk/brisk.hpp>
#include <brisk/cluster.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> stop{false};

brisk::cluster::ClientConfig nats() {
  brisk::cluster::ClientConfig config;
  if (const char* url = std::getenv("NATS_URL")) config.servers = {url};
  return config;
}

int worker() {
  brisk::cluster::Client client(nats());
  brisk::Engine engine;
  brisk::cluster::Worker consumer(client, engine);
  std::atomic<int> ran{0};
  consumer.register_task("resize_image", [&](brisk::TaskContext& task) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the image work
    ran.fetch_add(1, std::memory_order_relaxed);
    (void)task.payload();
  });
  engine.start();
  consumer.start();
  std::puts("worker: ready");
  std::fflush(stdout);
  std::signal(SIGTERM, [](int) { stop = true; });
  std::signal(SIGINT, [](int) { stop = true; });
  while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  consumer.stop();  // finishes and acknowledges what it fetched
  engine.shutdown();
  std::printf("worker: ran %d tasks\n", ran.load());
  return 0;
}

int produce(int tasks) {
  brisk::cluster::Client client(nats());
  std::vector<brisk::SubmitResult> sent;
  for (int i = 0; i < tasks; ++i) {
    brisk::SubmitResult r =
        client.submit("resize_image", "photo-" + std::to_string(i) + ".jpg", {.idempotency_key = "img-" + std::to_string(i)});
    if (!r) {
      std::printf("refused: %s\n", r.reason.data());  // answer 429/503 to your caller
      return 1;
    }
    sent.push_back(r);
  }
  int stored = 0;
  for (const auto& r : sent) stored += client.wait_durable(r) ? 1 : 0;  // JetStream has it: answer 202
  std::printf("producer: %d of %d stored\n", stored, tasks);
  return stored == tasks ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "worker") return worker();
    if (mode == "produce") return produce(argc > 2 ? std::atoi(argv[2]) : 1000);
  } catch (const brisk::cluster::ClusterError& e) {
    std::fprintf(stderr, "cluster_example: %s\n", e.what());
    return 2;
  }
  std::fprintf(stderr, "usage: cluster_example worker | produce [N]   (NATS_URL, default nats://127.0.0.1:4222)\n");
  return 64;
}

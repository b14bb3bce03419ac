// A workload whose counts a test knows exactly, for tests/tools/top_tmux_test.sh:
// 1234 "ok" tasks succeed and 7 "fails" tasks fail their one attempt and
// are dead-lettered. Then the engine idles, serving its debug endpoints on
// 127.0.0.1 ("port N", then "ready" once every task has ended), until
// SIGTERM or SIGINT.
#include <brisk/brisk.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <thread>

namespace {
std::atomic<bool> stop{false};  // lock-free: set from a signal handler
}  // namespace

int main() {
  brisk::EngineConfig config;
  config.workers = 2;
  config.observability.metrics_port = 0;
  config.observability.debug_endpoints = true;
  brisk::Engine engine(config);
  const brisk::TaskType ok = engine.register_task("ok", [](brisk::TaskContext&) {});
  brisk::TaskTypeOptions once;
  once.retry.max_attempts = 1;
  const brisk::TaskType fails = engine.register_task(
      "fails", [](brisk::TaskContext&) { throw std::runtime_error("always"); }, once);
  engine.start();
  std::printf("port %u\n", engine.metrics_port());
  std::fflush(stdout);
  std::signal(SIGTERM, [](int) { stop = true; });
  std::signal(SIGINT, [](int) { stop = true; });
  for (int i = 0; i < 1234; ++i) {
    while (!engine.submit(ok, "")) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (int i = 0; i < 7; ++i) {
    if (!engine.submit(fails, "")) return 1;
  }
  engine.drain();
  std::printf("ready dead_letters %zu succeeded %llu\n", engine.dead_letter_count(),
              static_cast<unsigned long long>(engine.stats().task_types[0].succeeded));
  std::fflush(stdout);
  while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

// An embedded engine with a deliberate bottleneck, for `brisk profile
// --attach` and `brisk top --attach` (docs/profiler.md walks through it).
//
//   profiler_example [SECONDS] [MAX_CONCURRENCY] [RATE]
//
// Serves /metrics and the debug endpoints on 127.0.0.1 (a free port,
// printed as "port N"), and for SECONDS (default 30) submits "resize"
// tasks of 200 us each at RATE a second (default 4000). The type allows MAX_CONCURRENCY
// (default 1) at once: one slot runs at most 5000 tasks/s, so with the
// offered 4000/s the slot is busy 80% and tasks queue at the type's gate.
// At the end (or at SIGTERM / Ctrl-C, which end it early) it prints the
// engine's own counts ("stats ..."), which a test compares with what the
// profiler reported.
#include <brisk/brisk.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace {

std::atomic<bool> stop{false};  // lock-free: set from a signal handler

void busy_for(std::chrono::microseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 30;
  const unsigned concurrency = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : 1;
  const int rate = argc > 3 ? std::max(1, std::atoi(argv[3])) : 4000;

  brisk::EngineConfig config;
  config.workers = 2;
  config.observability.metrics_port = 0;  // loopback, any free port
  config.observability.debug_endpoints = true;
  config.observability.trace_events_per_worker = 1 << 16;
  config.observability.trace_from_start = false;  // only while a profiler asks
  brisk::Engine engine(config);
  brisk::TaskTypeOptions resize;
  resize.max_concurrency = concurrency;  // the bottleneck
  const brisk::TaskType type = engine.register_task(
      "resize", [](brisk::TaskContext&) { busy_for(std::chrono::microseconds(200)); }, resize);
  engine.start();
  std::printf("port %u\n", engine.metrics_port());
  std::fflush(stdout);

  std::signal(SIGTERM, [](int) { stop = true; });
  std::signal(SIGINT, [](int) { stop = true; });
  const auto start = std::chrono::steady_clock::now();
  const auto period = std::chrono::nanoseconds(1'000'000'000 / rate);
  for (long i = 0;; ++i) {
    const auto due = start + i * period;
    if (due - start > std::chrono::seconds(seconds) || stop) break;
    std::this_thread::sleep_until(due);
    (void)engine.submit(type, "cat.png");  // a refusal is counted in stats() like any other answer
  }
  engine.drain();
  const brisk::EngineStats s = engine.stats();
  std::printf("stats accepted %llu executed %llu resize_succeeded %llu\n",
              static_cast<unsigned long long>(s.accepted), static_cast<unsigned long long>(s.executed),
              static_cast<unsigned long long>(s.task_types[0].succeeded));
}

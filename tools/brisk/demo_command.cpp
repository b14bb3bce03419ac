#include "brisk/demo_command.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "brisk/brisk.hpp"
#include "brisk/live_status.hpp"

namespace brisk::tools {

namespace {

using Clock = std::chrono::steady_clock;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

double percentile(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
  return static_cast<double>(sorted[std::min(i, sorted.size() - 1)]);
}

// Posts until accepted: the demo offers load, it does not drop it.
template <class F>
void post_retrying(Engine& engine, F&& f) {
  while (engine.post(f) != SubmitStatus::accepted) std::this_thread::yield();
}

void throughput_phase(Engine& engine, const DemoOptions& o) {
  std::atomic<std::uint64_t> ran{0};
  LiveStatus status(engine);  // a refreshing line on a terminal, silent otherwise
  const std::uint64_t per_producer = o.tasks / o.producers;
  const auto t0 = Clock::now();
  std::vector<std::thread> producers;
  for (unsigned p = 0; p < o.producers; ++p) {
    producers.emplace_back([&] {
      for (std::uint64_t i = 0; i < per_producer; ++i) {
        post_retrying(engine, [&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
      }
    });
  }
  for (auto& t : producers) t.join();
  engine.drain();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  status.stop();
  const std::uint64_t n = ran.load();
  std::printf("throughput: %llu tasks from %u producer(s) on %u worker(s) in %.3f s = %.2f M tasks/s\n",
              static_cast<unsigned long long>(n), o.producers, engine.config().workers, secs,
              static_cast<double>(n) / secs / 1e6);
}

void latency_phase(Engine& engine, const DemoOptions& o) {
  const auto count = static_cast<std::size_t>(o.rate * o.seconds);
  std::vector<std::int64_t> latency(count, 0);
  const double interval_ns = 1e9 / o.rate;
  LiveStatus status(engine);
  const std::int64_t start = now_ns();
  for (std::size_t i = 0; i < count; ++i) {
    const auto due = start + static_cast<std::int64_t>(static_cast<double>(i) * interval_ns);
    while (now_ns() < due) {
    }
    std::int64_t* slot = &latency[i];
    const std::int64_t submitted = now_ns();
    post_retrying(engine, [slot, submitted] { *slot = now_ns() - submitted; });
  }
  engine.drain();
  status.stop();
  std::sort(latency.begin(), latency.end());
  std::printf("latency:    submit-to-start at %.0f tasks/s for %.1f s (%zu tasks): "
              "p50 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us\n",
              o.rate, o.seconds, count, percentile(latency, 50) / 1e3, percentile(latency, 99) / 1e3,
              percentile(latency, 99.9) / 1e3, static_cast<double>(latency.back()) / 1e3);
}

}  // namespace

CLI::App* add_demo_command(CLI::App& app, DemoOptions& o) {
  CLI::App* cmd = app.add_subcommand("demo", "run the demo workload (the default): throughput and latency");
  cmd->add_option("--workers", o.workers, "worker threads (0: one per CPU)");
  cmd->add_option("--producers", o.producers, "producer threads in the throughput phase")->check(CLI::Range(1u, 64u));
  cmd->add_option("--tasks", o.tasks, "tasks in the throughput phase")->check(CLI::Range(1ull, 1'000'000'000ull));
  cmd->add_option("--rate", o.rate, "offered tasks/s in the latency phase")->check(CLI::Range(1.0, 1e8));
  cmd->add_option("--seconds", o.seconds, "length of the latency phase")->check(CLI::Range(0.01, 3600.0));
  cmd->add_option("--spin-polls", o.spin_polls, "empty polls before an idle worker parks");
  cmd->add_flag("!--no-pin", o.pin, "do not pin workers to CPUs");
  return cmd;
}

int run_demo(const DemoOptions& o) {
  EngineConfig config;
  if (o.workers != 0) config.workers = o.workers;
  config.pin_workers = o.pin;
  config.spin_polls = o.spin_polls;
  try {
    Engine engine(config);
    engine.start();
    throughput_phase(engine, o);
    latency_phase(engine, o);
    const EngineStats s = engine.stats();
    std::printf("engine:     executed %llu, failed %llu, stolen %llu, parks %llu\n",
                static_cast<unsigned long long>(s.executed), static_cast<unsigned long long>(s.failed),
                static_cast<unsigned long long>(s.stolen), static_cast<unsigned long long>(s.parks));
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "brisk: invalid configuration: %s\n", e.what());
    return 2;
  }
  return 0;
}

}  // namespace brisk::tools

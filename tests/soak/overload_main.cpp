// brisk_overload: durable submissions far beyond what the engine can run, for
// a while, and what that leaves behind. A refused submission must leave
// nothing that can ever run, in memory or on disk, so under overload with a
// log the process's memory and the log stay flat: the log holds the
// accepted tasks, not the refused ones.
//
//   brisk_overload --seconds 30 --producers 4 --dir /tmp/overload
//
// Producers submit durable tasks as fast as they can into tiny rings (one
// worker, rings of 4, a handler that takes 20 us); most are refused
// rejected_full. Then: RSS first and last, submissions accepted and refused,
// submit records in the log; and a restart that must bring back at most the
// accepted tasks that had not finished. Exits non-zero if the log holds a
// refused task or the restart brings back more than was accepted.
#include <CLI/CLI.hpp>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "brisk/brisk.hpp"

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::uint64_t rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

std::uint64_t dir_bytes(const std::string& dir) {
  std::uint64_t total = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) total += entry.file_size();
  }
  return total;
}

brisk::EngineConfig overload_config(const std::string& dir) {
  brisk::EngineConfig c;
  c.workers = 1;
  c.pin_workers = false;
  c.ring_capacity = 4;
  c.durability.wal_dir = dir;
  c.durability.fsync = brisk::FsyncPolicy::interval;
  c.durability.fsync_interval = 100ms;
  return c;
}

void spin_for(std::chrono::nanoseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"brisk_overload: durable overload must keep memory and the log flat"};
  double seconds = 30;
  unsigned producers = 4;
  std::string dir;
  app.add_option("--seconds", seconds, "how long to overload")->check(CLI::PositiveNumber);
  app.add_option("--producers", producers, "producer threads")->check(CLI::Range(1u, 64u));
  app.add_option("--dir", dir, "log directory (default: a fresh temporary one, removed after)");
  CLI11_PARSE(app, argc, argv);
  const bool own_dir = dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/brisk-overload-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 2;
    dir = tmpl;
  }

  std::atomic<std::uint64_t> accepted{0}, refused{0}, other{0}, ran{0};
  std::uint64_t rss_first = 0, rss_last = 0, submit_records = 0;
  {
    brisk::Engine engine(overload_config(dir));
    engine.register_task("slow", [&](brisk::TaskContext&) {
      spin_for(20us);
      ran.fetch_add(1, std::memory_order_relaxed);
    });
    engine.start();
    const std::uint64_t records_at_start = engine.stats().wal_records;
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (unsigned p = 0; p < producers; ++p) {
      threads.emplace_back([&] {
        const std::string payload(64, 'x');
        while (!stop.load(std::memory_order_relaxed)) {
          const brisk::SubmitResult r = engine.submit("slow", payload);
          if (r.accepted()) {
            accepted.fetch_add(1, std::memory_order_relaxed);
          } else if (r.status == brisk::SubmitStatus::rejected_full) {
            refused.fetch_add(1, std::memory_order_relaxed);
          } else {
            other.fetch_add(1, std::memory_order_relaxed);
          }
        }
      });
    }
    std::this_thread::sleep_for(1s);  // past start-up allocations
    rss_first = rss_kib();
    std::this_thread::sleep_for(std::chrono::duration<double>(std::max(0.0, seconds - 1)));
    rss_last = rss_kib();
    stop.store(true);
    for (auto& t : threads) t.join();
    engine.drain();
    const brisk::EngineStats stats = engine.stats();
    // Records besides the submits: completions (a record per batch of
    // them, so at most one per task) and the start's own.
    submit_records = stats.wal_records - records_at_start;
    engine.shutdown();
  }
  const std::uint64_t log_bytes = dir_bytes(dir);
  std::uint64_t requeued = 0;
  {
    brisk::Engine again(overload_config(dir));
    again.register_task("slow", [](brisk::TaskContext&) {});
    again.start();
    requeued = again.recovery_report().tasks_requeued;
    again.shutdown();
  }
  if (own_dir) fs::remove_all(dir);

  std::printf("overload: %.0f s, %u producers, 1 worker, rings of 4, fsync interval\n", seconds, producers);
  std::printf("submissions: %llu accepted, %llu refused rejected_full, %llu other; %llu ran\n",
              static_cast<unsigned long long>(accepted.load()), static_cast<unsigned long long>(refused.load()),
              static_cast<unsigned long long>(other.load()), static_cast<unsigned long long>(ran.load()));
  std::printf("RSS: %llu KiB after 1 s, %llu KiB at the end\n", static_cast<unsigned long long>(rss_first),
              static_cast<unsigned long long>(rss_last));
  std::printf("log: %llu records appended while overloaded (submits + completion batches), %llu bytes on disk "
              "after shutdown; restart requeued %llu\n",
              static_cast<unsigned long long>(submit_records), static_cast<unsigned long long>(log_bytes),
              static_cast<unsigned long long>(requeued));
  bool ok = true;
  if (submit_records > 2 * accepted.load()) {
    std::printf("FAIL: the log holds more records than two per accepted task: refused tasks were logged\n");
    ok = false;
  }
  if (requeued != 0) {
    std::printf("FAIL: every accepted task ran and was logged complete, yet the restart requeued %llu\n",
                static_cast<unsigned long long>(requeued));
    ok = false;
  }
  // Flat: what grows with refusals (records, keys, log buffers) would add
  // hundreds of MiB in seconds; the bound leaves room for allocator noise.
  if (rss_last > rss_first + 32 * 1024) {
    std::printf("FAIL: RSS grew by %llu KiB under overload\n",
                static_cast<unsigned long long>(rss_last - rss_first));
    ok = false;
  }
  if (refused.load() == 0) {
    std::printf("FAIL: nothing was refused: this run did not overload the engine\n");
    ok = false;
  }
  std::printf("%s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}

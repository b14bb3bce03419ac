// brisk_durable: durable task throughput and acknowledgement latency, brisk
// beside Redis, in one run (issues 5 and 7).
//
// The same workload on both: P producer threads each submit T/P tasks with a
// 64-byte payload and keep at most W submissions whose durable
// acknowledgement they have not seen. A task counts when its producer learns
// it is on disk as the policy promises.
//   brisk  Engine::submit() of a named task with durability on (the task also
//          runs: its completion is logged too), acked by is_durable() /
//          wait_durable(); fsync policy `always` and `interval`.
//   redis  a job list: pipelined LPUSH over one connection per producer, to a
//          redis-server this program starts on loopback with appendonly yes
//          and appendfsync `always` or `everysec`; a reply is the ack (with
//          `always`, Redis fsyncs the AOF before it replies).
// Repetitions are interleaved across systems; tables give medians [min-max]
// and brisk's ratio to each Redis mode. Before each repetition the program
// measures a cache-line round trip between the two CPUs: on a VM the host may
// move the vCPUs (hyperthreads of one core: ~50 ns; two cores: ~350 ns here),
// and brisk, whose threads hand tasks across cores, follows it.
//
//   brisk_durable                      full run (docs/perf.md)
//   brisk_durable --short              CI: tiny sizes, checks it runs
//   brisk_durable --brisk-only --details   brisk alone, with its log statistics (profiling)
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "brisk/brisk.hpp"
#include "clock.hpp"
#include "redis_server.hpp"
#include "temp_dir.hpp"
#include "ping_pong.hpp"

namespace {

using namespace std::chrono_literals;

using bench_common::now_ns;

struct Workload {
  std::uint64_t tasks = 0;
  unsigned producers = 1;
  std::size_t payload_bytes = 64;
  std::size_t window = 0;  // unacknowledged submissions per producer
  unsigned workers = 2;    // brisk's worker threads
};

// One repetition of one system: throughput and ack latency.
struct Run {
  double tasks_per_s = 0;
  std::vector<std::int64_t> ack_ns;  // a sample of submit-to-ack latencies
};

double percentile_us(std::vector<std::int64_t>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())));
  return static_cast<double>(v[i]) / 1e3;
}

// Runs `producer(index, ack_samples)` on P threads; returns tasks/s over the
// wall time from their common start to the last one's end.
Run run_producers(const Workload& w, const std::function<void(unsigned, std::vector<std::int64_t>&)>& producer) {
  std::vector<std::vector<std::int64_t>> samples(w.producers);
  // acquire/release: the producers start after the threads exist; a start line, no data.
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (unsigned p = 0; p < w.producers; ++p) {
    threads.emplace_back([&, p] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      producer(p, samples[p]);
    });
  }
  const std::int64_t t0 = now_ns();
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
  const double seconds = static_cast<double>(now_ns() - t0) / 1e9;
  Run run;
  run.tasks_per_s = static_cast<double>(w.tasks) / seconds;
  for (auto& s : samples) run.ack_ns.insert(run.ack_ns.end(), s.begin(), s.end());
  return run;
}

// Every 16th submission is timed and its ack sampled: enough for a p99.9,
// little memory, and the clock is read for one submission in 16 only (a
// clock read per task cost the producer loop ~3% of the CPU).
constexpr std::uint64_t kSampleEvery = 16;

// --details: each brisk run's log statistics on stderr.
bool details = false;

Run run_brisk(const Workload& w, brisk::FsyncPolicy policy, const std::string& disk_dir) {
  brisk_bench::TempDir dir(disk_dir);
  brisk::EngineConfig config;
  config.workers = w.workers;
  config.durability.wal_dir = dir.path();
  config.durability.fsync = policy;
  config.durability.fsync_interval = 100ms;
  brisk::Engine engine(config);
  const brisk::TaskType job = engine.register_task("job", [](brisk::TaskContext&) {});
  engine.start();
  const std::string payload(w.payload_bytes, 'p');
  Run run = run_producers(w, [&](unsigned p, std::vector<std::int64_t>& acks) {
    const std::uint64_t n = w.tasks / w.producers + (p < w.tasks % w.producers ? 1 : 0);
    struct Pending {
      brisk::SubmitResult result;
      std::int64_t submitted_ns;
      std::uint64_t seq;
    };
    std::deque<Pending> pending;
    auto settle = [&](Pending& front) {
      if (front.seq % kSampleEvery == 0) acks.push_back(now_ns() - front.submitted_ns);
      pending.pop_front();
    };
    for (std::uint64_t i = 0; i < n; ++i) {
      const std::int64_t t = i % kSampleEvery == 0 ? now_ns() : 0;
      brisk::SubmitResult r;
      while (!(r = engine.submit(job, payload))) {
        if (r.status != brisk::SubmitStatus::rejected_full) {
          throw std::runtime_error("brisk refused a durable task: " + std::string(brisk::to_string(r.status)) +
                                   " (" + std::string(r.reason) + ")");
        }
        std::this_thread::yield();
      }
      pending.push_back({r, t, i});
      while (!pending.empty() && engine.is_durable(pending.front().result)) settle(pending.front());
      if (pending.size() >= w.window) {
        if (!engine.wait_durable(pending.front().result)) throw std::runtime_error("brisk: the log failed");
        settle(pending.front());
      }
    }
    while (!pending.empty()) {
      if (!engine.wait_durable(pending.front().result)) throw std::runtime_error("brisk: the log failed");
      settle(pending.front());
    }
  });
  engine.drain();
  if (details) {
    const brisk::EngineStats st = engine.stats();
    std::fprintf(stderr, "  %.2fM tasks/s; log: %.1f bytes/task, %llu writes, %llu fdatasyncs; %llu tasks stolen\n",
                 run.tasks_per_s / 1e6, static_cast<double>(st.wal_bytes) / static_cast<double>(w.tasks),
                 static_cast<unsigned long long>(st.wal_batches), static_cast<unsigned long long>(st.wal_syncs),
                 static_cast<unsigned long long>(st.stolen));
  }
  return run;
}

Run run_redis(const Workload& w, const std::string& fsync, const std::string& disk_dir, int port) {
  brisk_bench::RedisServer server(disk_dir, fsync, port);
  const std::string payload(w.payload_bytes, 'p');
  return run_producers(w, [&](unsigned p, std::vector<std::int64_t>& acks) {
    redisContext* c = server.connect();
    if (c == nullptr) throw std::runtime_error("cannot connect to redis-server");
    const std::uint64_t n = w.tasks / w.producers + (p < w.tasks % w.producers ? 1 : 0);
    const std::string key = "jobs:" + std::to_string(p);
    std::vector<std::int64_t> sent(w.window);
    std::uint64_t seq = 0;
    for (std::uint64_t done = 0; done < n;) {
      // A pipeline of up to W commands, then its replies (the acks).
      const std::uint64_t batch = std::min<std::uint64_t>(w.window, n - done);
      for (std::uint64_t i = 0; i < batch; ++i) {
        if ((seq + i) % kSampleEvery == 0) sent[i] = now_ns();
        redisAppendCommand(c, "LPUSH %b %b", key.data(), key.size(), payload.data(), payload.size());
      }
      for (std::uint64_t i = 0; i < batch; ++i, ++seq) {
        void* reply = nullptr;
        if (redisGetReply(c, &reply) != REDIS_OK || reply == nullptr) {
          redisFree(c);
          throw std::runtime_error("redis: lost the connection");
        }
        const bool ok = static_cast<redisReply*>(reply)->type == REDIS_REPLY_INTEGER;
        freeReplyObject(reply);
        if (!ok) throw std::runtime_error("redis: LPUSH failed");
        if (seq % kSampleEvery == 0) acks.push_back(now_ns() - sent[i]);
      }
      done += batch;
    }
    redisFree(c);
  });
}

struct System {
  std::string name;
  std::function<Run(const Workload&)> run;
  std::vector<double> throughput;
  std::vector<std::int64_t> ack_ns;  // every repetition's samples
  std::vector<double> round_trip_ns;  // the core-to-core round trip before each repetition
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0 : (n % 2 != 0 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"brisk durable throughput and ack latency beside Redis (AOF always / everysec)"};
  Workload w;
  w.tasks = 1'000'000;
  w.producers = 2;
  w.window = 1024;
  int reps = 3;
  bool short_mode = false, brisk_only = false;
  std::string disk_dir = "/tmp", json_path;
  int port = 16390;
  app.add_option("--tasks", w.tasks, "tasks per repetition")->check(CLI::Range(1ull, 1ull << 40));
  app.add_option("--producers", w.producers)->check(CLI::Range(1u, 64u));
  app.add_option("--payload", w.payload_bytes, "payload bytes")->check(CLI::Range(1ull, 1ull << 20));
  app.add_option("--workers", w.workers, "brisk's worker threads")->check(CLI::Range(1u, 64u));
  app.add_option("--window", w.window, "unacknowledged submissions per producer")->check(CLI::Range(1ull, 1ull << 20));
  app.add_option("--reps", reps)->check(CLI::Range(1, 100));
  app.add_option("--disk-dir", disk_dir, "where the logs go (the disk being measured)");
  app.add_option("--redis-port", port);
  app.add_option("--json", json_path, "write the raw numbers here");
  app.add_flag("--short", short_mode, "tiny sizes, 1 repetition: checks that it runs");
  app.add_flag("--brisk-only", brisk_only, "skip Redis (for profiling brisk alone; no ratios)");
  app.add_flag("--details", details, "print each brisk run's log statistics (bytes per task, writes, fdatasyncs)");
  CLI11_PARSE(app, argc, argv);
  if (short_mode) {
    w.tasks = 20'000;
    reps = 1;
  }

  std::vector<System> systems;
  auto add = [&systems](std::string name, std::function<Run(const Workload&)> run) {
    System s;
    s.name = std::move(name);
    s.run = std::move(run);
    systems.push_back(std::move(s));
  };
  add("brisk always", [&](const Workload& x) { return run_brisk(x, brisk::FsyncPolicy::always, disk_dir); });
  add("brisk interval 100ms", [&](const Workload& x) { return run_brisk(x, brisk::FsyncPolicy::interval, disk_dir); });
  if (!brisk_only) {
    add("redis always", [&](const Workload& x) { return run_redis(x, "always", disk_dir, port); });
    add("redis everysec", [&](const Workload& x) { return run_redis(x, "everysec", disk_dir, port); });
  }

  std::printf("brisk_durable: %llu tasks, %u producers, %zu-byte payloads, window %zu, %d repetitions, logs in %s\n",
              static_cast<unsigned long long>(w.tasks), w.producers, w.payload_bytes, w.window, reps,
              disk_dir.c_str());
  try {
    for (int rep = 1; rep <= reps; ++rep) {
      for (System& s : systems) {
        const double round_trip = bench_common::cache_line_ping_pong(20'000, 3).round_trip_ns;
        s.round_trip_ns.push_back(round_trip);
        std::fprintf(stderr, "[%d/%d] %s (core round trip %.0f ns)\n", rep, reps, s.name.c_str(), round_trip);
        Run r = s.run(w);
        s.throughput.push_back(r.tasks_per_s);
        s.ack_ns.insert(s.ack_ns.end(), r.ack_ns.begin(), r.ack_ns.end());
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "brisk_durable: %s\n", e.what());
    return 1;
  }

  nlohmann::json json;
  json["tasks"] = w.tasks;
  json["producers"] = w.producers;
  json["payload_bytes"] = w.payload_bytes;
  json["window"] = w.window;
  std::printf(
      "\n| system | k tasks/s acked durable, median [min-max] | ack p50 us | ack p99 us | ack p99.9 us | core round "
      "trip ns, median [min-max] |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  for (System& s : systems) {
    const double med = median(s.throughput);
    const double lo = *std::min_element(s.throughput.begin(), s.throughput.end());
    const double hi = *std::max_element(s.throughput.begin(), s.throughput.end());
    const double p50 = percentile_us(s.ack_ns, 0.5), p99 = percentile_us(s.ack_ns, 0.99),
                 p999 = percentile_us(s.ack_ns, 0.999);
    const auto [rt_lo, rt_hi] = std::minmax_element(s.round_trip_ns.begin(), s.round_trip_ns.end());
    std::printf("| %s | %.0f [%.0f-%.0f] | %.0f | %.0f | %.0f | %.0f [%.0f-%.0f] |\n", s.name.c_str(), med / 1e3,
                lo / 1e3, hi / 1e3, p50, p99, p999, median(s.round_trip_ns), *rt_lo, *rt_hi);
    json["systems"][s.name] = {{"tasks_per_s", s.throughput}, {"ack_p50_us", p50},
                               {"ack_p99_us", p99},       {"ack_p999_us", p999},
                               {"core_round_trip_ns", s.round_trip_ns}};
  }
  if (!json_path.empty()) std::ofstream(json_path) << json.dump(2) << '\n';
  if (brisk_only) return 0;
  std::printf("\n| brisk / redis, ratio of median throughput | redis always | redis everysec |\n|---|---:|---:|\n");
  for (std::size_t b = 0; b < 2; ++b) {
    std::printf("| %s | %.2fx | %.2fx |\n", systems[b].name.c_str(),
                median(systems[b].throughput) / median(systems[2].throughput),
                median(systems[b].throughput) / median(systems[3].throughput));
  }
  return 0;
}

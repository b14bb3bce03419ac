// brisk_soak: runs the engine at a fixed fraction of its measured capacity
// for a long time and checks that nothing drifts: memory (RSS) does not grow,
// queue-wait p99 does not creep up, and every accepted task reaches a final
// state once the load stops.
//
//   brisk_soak --minutes 60 --load 0.8 --csv soak.csv --seed 7
//
// Phases: calibrate (offer the mix as fast as the engine takes it, measure
// completions per second), then offer load * capacity at a paced rate, one
// sample every --sample-seconds, then drain and judge. docs/soak.md has the
// last long run.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "brisk/brisk.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::int64_t now_ns() { return Clock::now().time_since_epoch() / 1ns; }

// ~2 us of CPU, the representative "small task" of the mix.
void work(std::int64_t ns) {
  const std::int64_t until = now_ns() + ns;
  while (now_ns() < until) {
  }
}

// Log-linear histogram (16 sub-buckets per power of two: within 1/16) with
// atomic buckets. Cumulative; a window is the difference of two snapshots,
// which is exact for every sample counted before the second snapshot.
class Histogram {
 public:
  static constexpr std::size_t kBuckets = 64 * 16;
  using Snapshot = std::array<std::uint64_t, kBuckets>;

  void record(std::int64_t ns) {
    buckets_[index(static_cast<std::uint64_t>(std::max<std::int64_t>(ns, 0)))].fetch_add(
        1, std::memory_order_relaxed);
  }
  Snapshot snapshot() const {
    Snapshot s;
    for (std::size_t i = 0; i < kBuckets; ++i) s[i] = buckets_[i].load(std::memory_order_relaxed);
    return s;
  }
  // Percentile q (0..1) of (now - before), in ns (bucket upper bound); 0 if empty.
  static std::uint64_t percentile(const Snapshot& now, const Snapshot& before, double q, std::uint64_t* count) {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) total += now[i] - before[i];
    if (count) *count = total;
    if (total == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1)) + 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += now[i] - before[i];
      if (seen >= rank) return upper(i);
    }
    return upper(kBuckets - 1);
  }

 private:
  static std::size_t index(std::uint64_t v) {
    if (v < 16) return v;
    const int e = std::bit_width(v) - 1;  // >= 4
    return static_cast<std::size_t>(e - 3) * 16 + ((v >> (e - 4)) & 15);
  }
  static std::uint64_t upper(std::size_t i) {
    if (i < 16) return i;
    const std::size_t e = i / 16 + 3, sub = i % 16;
    return ((16 + sub + 1) << (e - 4)) - 1;
  }
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
};

struct Shared {
  Histogram wait;  // submit to start: closures and undelayed first attempts
  Histogram run;   // start to end of the work itself
  std::atomic<std::uint64_t> closures_accepted{0}, closures_ran{0};
  std::atomic<std::uint64_t> named_accepted{0}, offered{0}, refused{0}, skipped{0};
};

// The named task's payload: its submit time, whether it was delayed, and a
// number that decides its fate (so a seed replays the same failures).
std::string payload(std::int64_t submit_ns, bool delayed, std::uint64_t fate) {
  return std::to_string(submit_ns) + (delayed ? " d " : " n ") + std::to_string(fate);
}

// Decides one task of the mix and offers it. Returns false if refused.
bool offer_one(brisk::Producer& producer, brisk::TaskType type, Shared& shared, std::mt19937_64& rng) {
  shared.offered.fetch_add(1, std::memory_order_relaxed);
  const auto prio = static_cast<brisk::Priority>(rng() % 3);
  const std::int64_t t = now_ns();
  const unsigned pick = rng() % 100;
  if (pick < 70) {  // closure: 16 bytes of capture, stored inline in the ring slot
    Shared* s = &shared;
    const brisk::SubmitStatus st = producer.post(
        [s, t] {
          const std::int64_t start = now_ns();
          s->wait.record(start - t);
          work(2000);
          s->run.record(now_ns() - start);
          s->closures_ran.fetch_add(1, std::memory_order_relaxed);
        },
        prio);
    if (st != brisk::SubmitStatus::accepted) return false;
    shared.closures_accepted.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  brisk::TaskOptions o;
  o.priority = prio;
  const bool delayed = pick >= 95;  // 5% delayed by up to 5 ms
  if (delayed) o.delay = std::chrono::microseconds(rng() % 5000);
  if (!producer.submit(type, payload(t, delayed, rng()), o)) return false;
  shared.named_accepted.fetch_add(1, std::memory_order_relaxed);
  return true;
}

// One producer thread: offers `rate` tasks per second (0: as fast as accepted)
// until `stop`. A refused task stays due; a backlog over 100 ms is dropped
// (counted as skipped) so a stalled machine does not turn into a burst.
void produce(brisk::Engine& engine, brisk::TaskType type, Shared& shared, std::uint64_t seed, double rate,
             const std::atomic<bool>& stop) {
  std::mt19937_64 rng(seed);
  brisk::Producer producer = engine.make_producer();
  const std::int64_t t0 = now_ns();
  std::uint64_t sent = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    if (rate == 0) {
      if (!offer_one(producer, type, shared, rng)) {
        shared.refused.fetch_add(1, std::memory_order_relaxed);
        std::this_thread::yield();
      }
      continue;
    }
    const auto due = static_cast<std::uint64_t>(static_cast<double>(now_ns() - t0) * 1e-9 * rate);
    const auto max_lag = static_cast<std::uint64_t>(rate * 0.1) + 1;
    if (due > sent + max_lag) {
      shared.skipped.fetch_add(due - max_lag - sent, std::memory_order_relaxed);
      sent = due - max_lag;
    }
    while (sent < due) {
      if (!offer_one(producer, type, shared, rng)) {
        shared.refused.fetch_add(1, std::memory_order_relaxed);
        break;
      }
      ++sent;
    }
    std::this_thread::sleep_for(200us);
  }
}

std::uint64_t rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

double loadavg1() {
  std::ifstream in("/proc/loadavg");
  double l = 0;
  in >> l;
  return l;
}

struct Sample {
  double t_s;
  std::uint64_t rss_kib, window_tasks;
  double win_wait_p50_us, win_wait_p99_us, win_run_p99_us;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Median of `field` over samples [from, to).
template <class F>
double median_of(const std::vector<Sample>& s, std::size_t from, std::size_t to, F field) {
  std::vector<double> v;
  for (std::size_t i = from; i < to; ++i) v.push_back(field(s[i]));
  return median(v);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"brisk soak: long run at a fraction of measured capacity, checks memory, p99 drift and counts"};
  double minutes = 60, load = 0.8, sample_seconds = 10, calibrate_seconds = 5;
  std::uint64_t seed = std::random_device{}();
  unsigned producers = 2;
  std::string csv_path;
  app.add_option("--minutes", minutes, "how long to run at the paced load")->check(CLI::PositiveNumber);
  app.add_option("--load", load, "fraction of measured capacity to offer")->check(CLI::Range(0.01, 1.0));
  app.add_option("--sample-seconds", sample_seconds, "sampling period")->check(CLI::PositiveNumber);
  app.add_option("--calibrate-seconds", calibrate_seconds, "capacity measurement")->check(CLI::PositiveNumber);
  app.add_option("--producers", producers)->check(CLI::Range(1u, 64u));
  app.add_option("--seed", seed, "random seed (printed; pass it to replay the mix)");
  app.add_option("--csv", csv_path, "write one row per sample");
  CLI11_PARSE(app, argc, argv);
  std::printf("brisk_soak: seed %llu, %.2f min at %.0f%% load, sample every %.0f s, %u producers, %u CPUs\n",
              static_cast<unsigned long long>(seed), minutes, load * 100, sample_seconds, producers,
              std::thread::hardware_concurrency());

  Shared shared;
  brisk::EngineConfig config;
  config.pin_workers = false;  // a shared machine: let the OS place workers
  brisk::Engine engine(config);
  brisk::TaskTypeOptions options;
  options.retry.max_attempts = 3;
  options.retry.base = 1ms;
  options.retry.cap = 5ms;
  const brisk::TaskType type = engine.register_task(
      "soak",
      [&shared](brisk::TaskContext& task) {
        const std::int64_t start = now_ns();
        const std::string p(task.payload());
        const std::size_t sp = p.find(' ');
        const bool delayed = p[sp + 1] == 'd';
        const std::uint64_t fate = std::stoull(p.substr(sp + 3));
        if (task.attempt() == 1 && !delayed) shared.wait.record(start - std::stoll(p.substr(0, sp)));
        work(2000);
        shared.run.record(now_ns() - start);
        // 3% of attempts fail retryably (each attempt drawn afresh, so 3 in a
        // row is rare); 0.1% of tasks fail for good.
        if (fate % 1000 == 0) return brisk::Outcome::fail("permanent");
        if ((((fate >> 16) * 0x9E3779B97F4A7C15ull ^ task.attempt()) * 0xBF58476D1CE4E5B9ull >> 40) % 100 < 3)
          return brisk::Outcome::retry("transient");
        return brisk::Outcome::success();
      },
      options);
  engine.start();

  // ---- calibrate ----
  std::atomic<bool> stop{false};
  auto run_producers = [&](double total_rate, std::uint64_t seed_base) {
    std::vector<std::thread> threads;
    for (unsigned p = 0; p < producers; ++p)
      threads.emplace_back(produce, std::ref(engine), type, std::ref(shared), seed_base + p, total_rate / producers,
                           std::cref(stop));
    return threads;
  };
  const auto done = [&] { return engine.stats().executed; };
  std::uint64_t before = done();
  auto threads = run_producers(0, seed);
  std::this_thread::sleep_for(std::chrono::duration<double>(calibrate_seconds));
  const double capacity = static_cast<double>(done() - before) / calibrate_seconds;
  stop = true;
  for (auto& t : threads) t.join();
  engine.drain();
  const double target = capacity * load;
  std::printf("brisk_soak: capacity %.0f tasks/s (loadavg %.2f); offering %.0f tasks/s\n", capacity, loadavg1(),
              target);

  // ---- soak ----
  std::FILE* csv = csv_path.empty() ? nullptr : std::fopen(csv_path.c_str(), "w");
  if (csv)
    std::fprintf(csv,
                 "t_s,rss_kib,accepted,executed,failed,dead_lettered,credits_outstanding,queued,window_tasks,"
                 "win_wait_p50_us,win_wait_p99_us,win_run_p99_us,cum_wait_p50_us,cum_wait_p99_us,cum_run_p99_us,"
                 "done_per_s,refused,skipped,loadavg1\n");
  std::printf("   t_s  rss_MiB   accepted   executed  failed  dlq  credits | window: tasks  wait_p50  wait_p99   run_p99 "
              "| cumulative: wait_p50 wait_p99 run_p99 (us) | done/s  load\n");
  stop = false;
  shared.offered = 0;  // from here on, counts describe the paced phase only
  shared.refused = 0;
  threads = run_producers(target, seed + 1000);
  const auto t0 = Clock::now();
  const auto end = t0 + std::chrono::duration<double>(minutes * 60);
  std::vector<Sample> samples;
  Histogram::Snapshot prev_wait = shared.wait.snapshot(), prev_run = shared.run.snapshot();
  std::uint64_t prev_executed = done();
  for (auto next = t0 + std::chrono::duration<double>(sample_seconds); next <= end + 1ms;
       next += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(sample_seconds))) {
    std::this_thread::sleep_until(next);
    const Histogram::Snapshot wait = shared.wait.snapshot(), run = shared.run.snapshot();
    const brisk::EngineStats s = engine.stats();
    std::uint64_t dlq = 0, n = 0;
    for (const auto& ts : s.task_types) dlq += ts.dead_lettered;
    Sample x{std::chrono::duration<double>(Clock::now() - t0).count(), rss_kib(), 0, 0, 0, 0};
    x.win_wait_p50_us = static_cast<double>(Histogram::percentile(wait, prev_wait, 0.50, &n)) / 1e3;
    x.win_wait_p99_us = static_cast<double>(Histogram::percentile(wait, prev_wait, 0.99, nullptr)) / 1e3;
    x.win_run_p99_us = static_cast<double>(Histogram::percentile(run, prev_run, 0.99, nullptr)) / 1e3;
    x.window_tasks = n;
    const double rate = static_cast<double>(s.executed - prev_executed) / sample_seconds;
    const double la = loadavg1();
    std::printf("%6.0f %8.1f %10llu %10llu %7llu %4llu %8lld | %13llu %9.1f %9.1f %9.1f | %20.1f %8.1f %7.1f | %6.0f %5.2f\n",
                x.t_s, static_cast<double>(x.rss_kib) / 1024, static_cast<unsigned long long>(s.accepted),
                static_cast<unsigned long long>(s.executed), static_cast<unsigned long long>(s.failed),
                static_cast<unsigned long long>(dlq), static_cast<long long>(s.credits_outstanding),
                static_cast<unsigned long long>(n), x.win_wait_p50_us, x.win_wait_p99_us, x.win_run_p99_us,
                static_cast<double>(s.queue_wait.p50_ns) / 1e3, static_cast<double>(s.queue_wait.p99_ns) / 1e3,
                static_cast<double>(s.run_time.p99_ns) / 1e3, rate, la);
    std::fflush(stdout);
    if (csv) {
      std::fprintf(csv, "%.1f,%llu,%llu,%llu,%llu,%llu,%lld,%llu,%llu,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.0f,%llu,%llu,%.2f\n",
                   x.t_s, static_cast<unsigned long long>(x.rss_kib), static_cast<unsigned long long>(s.accepted),
                   static_cast<unsigned long long>(s.executed), static_cast<unsigned long long>(s.failed),
                   static_cast<unsigned long long>(dlq), static_cast<long long>(s.credits_outstanding),
                   static_cast<unsigned long long>(s.queued), static_cast<unsigned long long>(n), x.win_wait_p50_us,
                   x.win_wait_p99_us, x.win_run_p99_us, static_cast<double>(s.queue_wait.p50_ns) / 1e3,
                   static_cast<double>(s.queue_wait.p99_ns) / 1e3, static_cast<double>(s.run_time.p99_ns) / 1e3, rate,
                   static_cast<unsigned long long>(shared.refused.load()),
                   static_cast<unsigned long long>(shared.skipped.load()), la);
      std::fflush(csv);
    }
    // Dead letters are the application's to inspect; a long-running service
    // empties the queue, so its memory does not count as the engine's growth.
    engine.purge_dead_letters();
    samples.push_back(x);
    prev_wait = wait;
    prev_run = run;
    prev_executed = s.executed;
  }
  stop = true;
  for (auto& t : threads) t.join();
  if (csv) std::fclose(csv);

  // ---- drain: delays and backoffs are a few ms, let every timer come due ----
  engine.drain();
  for (int i = 0; i < 1000 && (engine.stats().pending_timers != 0 || engine.stats().named_in_flight != 0); ++i) {
    std::this_thread::sleep_for(5ms);
    engine.drain();
  }
  for (int i = 0; i < 200 && engine.stats().credits_outstanding != 0; ++i) std::this_thread::sleep_for(5ms);

  // ---- judge ----
  int failures = 0;
  const brisk::EngineStats s = engine.stats();
  std::uint64_t succeeded = 0, dead = 0, type_accepted = 0;
  for (const auto& ts : s.task_types) {
    succeeded += ts.succeeded;
    dead += ts.dead_lettered;
    type_accepted += ts.accepted;
  }
  const std::uint64_t named = shared.named_accepted.load();
  std::printf("brisk_soak: offered %llu, refused %llu, skipped %llu; closures accepted %llu ran %llu; named accepted %llu "
              "(engine %llu) succeeded %llu dead-lettered %llu; queued %llu, timers %llu, in flight %llu, credits %lld\n",
              static_cast<unsigned long long>(shared.offered.load()), static_cast<unsigned long long>(shared.refused.load()),
              static_cast<unsigned long long>(shared.skipped.load()),
              static_cast<unsigned long long>(shared.closures_accepted.load()),
              static_cast<unsigned long long>(shared.closures_ran.load()), static_cast<unsigned long long>(named),
              static_cast<unsigned long long>(type_accepted), static_cast<unsigned long long>(succeeded),
              static_cast<unsigned long long>(dead), static_cast<unsigned long long>(s.queued),
              static_cast<unsigned long long>(s.pending_timers), static_cast<unsigned long long>(s.named_in_flight),
              static_cast<long long>(s.credits_outstanding));
  if (shared.closures_ran.load() != shared.closures_accepted.load() || named != type_accepted ||
      succeeded + dead != named || s.queued != 0 || s.pending_timers != 0 || s.named_in_flight != 0 ||
      s.credits_outstanding != 0) {
    ++failures;
    std::printf("FAIL counts: some accepted task did not reach a final state (or a counter disagrees)\n");
  }
  // Drift is judged on medians of quarters; with fewer than 20 samples a
  // quarter's median is one or two noisy windows, so a short run (CI) judges
  // the counts only.
  constexpr std::size_t kMinSamplesToJudgeDrift = 20;
  const std::size_t q = samples.size() / 4;
  if (samples.size() < kMinSamplesToJudgeDrift) {
    std::printf("brisk_soak: %zu samples, too few to judge memory and p99 drift (need %zu); counts judged\n",
                samples.size(), kMinSamplesToJudgeDrift);
  } else {
    const std::size_t n = samples.size();
    const double rss2 = median_of(samples, q, 2 * q, [](const Sample& x) { return double(x.rss_kib); });
    const double rss4 = median_of(samples, n - q, n, [](const Sample& x) { return double(x.rss_kib); });
    const double p2 = median_of(samples, q, 2 * q, [](const Sample& x) { return x.win_wait_p99_us; });
    const double p4 = median_of(samples, n - q, n, [](const Sample& x) { return x.win_wait_p99_us; });
    std::printf("brisk_soak: RSS first %.1f MiB, last %.1f MiB; median RSS Q2 %.1f MiB, Q4 %.1f MiB; "
                "median window wait p99 Q2 %.1f us, Q4 %.1f us\n",
                samples.front().rss_kib / 1024.0, samples.back().rss_kib / 1024.0, rss2 / 1024, rss4 / 1024, p2, p4);
    if (rss4 > rss2 * 1.10 + 8 * 1024) {
      ++failures;
      std::printf("FAIL memory: last-quarter RSS grew more than 10%% + 8 MiB over the second quarter\n");
    }
    if (p4 > 3 * p2 && p4 - p2 > 100) {
      ++failures;
      std::printf("FAIL p99 drift: last-quarter wait p99 is over 3x the second quarter's and 100 us more\n");
    }
  }
  std::printf("%d passed, %d failed\n", failures == 0 ? 1 : 0, failures == 0 ? 0 : 1);
  if (failures != 0) std::printf("brisk_soak: replay with --seed %llu\n", static_cast<unsigned long long>(seed));
  return failures == 0 ? 0 : 1;
}

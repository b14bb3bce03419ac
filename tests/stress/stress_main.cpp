// brisk_stress: many producers and workers, random priorities, delays,
// failures, cancellations and steals for a bounded time, then an invariant
// check: every accepted task reached exactly one final state and the
// counters add up.
//
//   brisk_stress --seconds 600 --seed 42     (as long as asked; replays a seed)
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "brisk/brisk.hpp"

namespace {

using namespace std::chrono_literals;

// One slot per named task; the payload carries the slot number.
struct Ledger {
  explicit Ledger(std::size_t n) : runs(n), runs_at_cancel(n) {
    for (auto& r : runs_at_cancel) r.store(-1);
  }
  std::vector<std::atomic<std::uint32_t>> runs;          // attempts started
  // Attempts already made when cancel() returned true (0 if refused at
  // submit); -1 if never cancelled. No attempt may start after it.
  std::vector<std::atomic<std::int64_t>> runs_at_cancel;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"brisk stress: random load with an invariant checker"};
  double seconds = 5;
  std::uint64_t seed = std::random_device{}();
  unsigned producers = 4, workers = 2;
  std::size_t max_tasks = 2'000'000;
  app.add_option("--seconds", seconds, "how long to generate load");
  app.add_option("--seed", seed, "random seed (printed; pass it to replay)");
  app.add_option("--producers", producers)->check(CLI::Range(1u, 64u));
  app.add_option("--workers", workers)->check(CLI::Range(1u, 64u));
  app.add_option("--max-tasks", max_tasks, "ledger size: named tasks submitted at most");
  CLI11_PARSE(app, argc, argv);
  std::printf("brisk_stress: seed %llu, %.1f s, %u producers, %u workers\n",
              static_cast<unsigned long long>(seed), seconds, producers, workers);

  Ledger ledger(max_tasks);
  std::atomic<std::size_t> next_slot{0};
  std::atomic<std::uint64_t> closures_accepted{0}, closures_ran{0};
  std::atomic<std::uint64_t> offered{0}, refused{0};

  brisk::EngineConfig config;
  config.workers = workers;
  config.pin_workers = false;
  config.ring_capacity = 1024;
  config.max_named_tasks = 1u << 16;
  config.timer_tick = 100us;
  brisk::Engine engine(config);
  brisk::TaskTypeOptions flaky;
  flaky.retry.max_attempts = 3;
  flaky.retry.base = 1ms;
  flaky.retry.cap = 2ms;
  auto handler = [&](brisk::TaskContext& t) {
    const std::size_t slot = std::stoull(std::string(t.payload()));
    ledger.runs[slot].fetch_add(1);
    // Outcome decided by the slot and attempt, so a replay is exact.
    const std::uint64_t h = (slot * 0x9E3779B97F4A7C15ull) ^ t.attempt();
    brisk::Outcome outcome = brisk::Outcome::success();
    if (h % 7 == 0) outcome = brisk::Outcome::retry("transient");
    if (h % 31 == 0) outcome = brisk::Outcome::fail("permanent");
    if (h % 53 == 0) throw std::runtime_error("thrown");
    return outcome;
  };
  engine.register_task("flaky", handler, flaky);
  brisk::TaskTypeOptions limited;
  limited.max_concurrency = 1;
  limited.retry.max_attempts = 1;
  engine.register_task("limited", handler, limited);
  engine.start();

  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (unsigned p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      std::mt19937_64 rng(seed + p);
      brisk::Producer producer = engine.make_producer();
      std::vector<std::pair<brisk::TaskId, std::size_t>> recent;
      while (std::chrono::steady_clock::now() < until) {
        offered.fetch_add(1);
        const auto prio = static_cast<brisk::Priority>(rng() % 3);
        if (rng() % 2 == 0) {
          const brisk::SubmitStatus s = producer.post([&] { closures_ran.fetch_add(1); }, prio);
          if (s == brisk::SubmitStatus::accepted) {
            closures_accepted.fetch_add(1);
          } else {
            refused.fetch_add(1);
          }
          continue;
        }
        const std::size_t slot = next_slot.fetch_add(1);
        if (slot >= ledger.runs.size()) break;
        brisk::TaskOptions o;
        o.priority = prio;
        if (rng() % 4 == 0) o.delay = std::chrono::microseconds(rng() % 5000);
        const brisk::SubmitResult r =
            engine.submit(rng() % 10 == 0 ? "limited" : "flaky", std::to_string(slot), o);
        if (!r) {
          ledger.runs_at_cancel[slot] = 0;  // never accepted: must never run
          refused.fetch_add(1);
          continue;
        }
        recent.emplace_back(r.id, slot);
        if (rng() % 8 == 0 && !recent.empty()) {
          const auto [id, victim] = recent[rng() % recent.size()];
          // A successful cancel means no attempt is running (queued or
          // waiting), so the count read right after it is final.
          if (engine.cancel(id)) ledger.runs_at_cancel[victim] = ledger.runs[victim].load();
        }
        if (recent.size() > 64) recent.erase(recent.begin());
      }
    });
  }
  for (auto& t : threads) t.join();
  // Delays and backoffs are at most a few ms: let every timer come due.
  engine.drain();
  for (int i = 0; i < 1000 && engine.stats().pending_timers != 0; ++i) {
    std::this_thread::sleep_for(5ms);
    engine.drain();
  }

  // ---- invariants ----
  std::uint64_t violations = 0, named = 0, ran = 0, cancelled = 0;
  const std::size_t used = std::min(next_slot.load(), ledger.runs.size());
  for (std::size_t i = 0; i < used; ++i) {
    const std::uint32_t runs = ledger.runs[i].load();
    if (const std::int64_t at_cancel = ledger.runs_at_cancel[i].load(); at_cancel >= 0) {
      ++cancelled;
      if (runs != at_cancel) {
        ++violations;
        std::printf("VIOLATION: task slot %zu ran %u times, %lld when cancelled or refused\n", i, runs,
                    static_cast<long long>(at_cancel));
      }
      continue;
    }
    ++named;
    if (runs == 0 || runs > 3) {
      ++violations;
      std::printf("VIOLATION: task slot %zu ran %u times (expected 1..3)\n", i, runs);
    } else {
      ++ran;
    }
  }
  const brisk::EngineStats s = engine.stats();
  if (closures_ran.load() != closures_accepted.load()) {
    ++violations;
    std::printf("VIOLATION: %llu closures accepted, %llu ran\n",
                static_cast<unsigned long long>(closures_accepted.load()),
                static_cast<unsigned long long>(closures_ran.load()));
  }
  if (s.pending_timers != 0 || s.queued != 0) {
    ++violations;
    std::printf("VIOLATION: after drain %llu timers and %llu queued remain\n",
                static_cast<unsigned long long>(s.pending_timers), static_cast<unsigned long long>(s.queued));
  }
  std::printf("brisk_stress: offered %llu, refused %llu, closures %llu, named %llu (ran %llu, cancelled or refused %llu), "
              "dead letters %zu, stolen %llu, parks %llu\n",
              static_cast<unsigned long long>(offered.load()), static_cast<unsigned long long>(refused.load()),
              static_cast<unsigned long long>(closures_ran.load()), static_cast<unsigned long long>(named),
              static_cast<unsigned long long>(ran), static_cast<unsigned long long>(cancelled),
              engine.dead_letter_count(), static_cast<unsigned long long>(s.stolen),
              static_cast<unsigned long long>(s.parks));
  std::printf("%llu passed, %llu failed\n", static_cast<unsigned long long>(violations == 0 ? 1 : 0),
              static_cast<unsigned long long>(violations == 0 ? 0 : 1));
  if (violations != 0) {
    std::printf("brisk_stress: %llu invariant violations; replay with --seed %llu\n",
                static_cast<unsigned long long>(violations), static_cast<unsigned long long>(seed));
    return 1;
  }
  return 0;
}

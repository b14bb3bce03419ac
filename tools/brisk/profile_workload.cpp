#include "brisk/profile_workload.hpp"

#include <atomic>
#include <chrono>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "brisk/brisk.hpp"
#include "brisk/live_status.hpp"

namespace brisk::tools {

namespace {

using SteadyClock = std::chrono::steady_clock;
// A refused producer waits this long for a credit before offering again.
constexpr auto kCreditWait = std::chrono::milliseconds(100);

// The task's "work": burn the CPU, as a handler doing real computation would.
void spin_for(std::int64_t ns) {
  const auto end = SteadyClock::now() + std::chrono::nanoseconds(ns);
  while (SteadyClock::now() < end) {
  }
}

// "10:80:10" -> cumulative weights {10, 90, 100}.
std::vector<unsigned> parse_priority_mix(const std::string& mix, unsigned lanes) {
  std::vector<unsigned> cumulative;
  std::istringstream in(mix);
  std::string part;
  unsigned total = 0;
  while (std::getline(in, part, ':')) {
    std::size_t used = 0;
    unsigned long w = 0;
    try {
      w = std::stoul(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != part.size() || w > 1'000'000) {
      throw std::invalid_argument("--priority-mix: '" + part + "' is not a weight");
    }
    total += static_cast<unsigned>(w);
    cumulative.push_back(total);
  }
  if (cumulative.empty() || cumulative.size() > lanes || total == 0) {
    throw std::invalid_argument("--priority-mix: give 1.." + std::to_string(lanes) + " weights, not all 0");
  }
  return cumulative;
}

struct Plan {
  const ProfileOptions& o;
  Engine& engine;
  TaskType type;
  std::vector<unsigned> lanes;  // cumulative weights
  std::int64_t work_ns;
  SteadyClock::time_point start, deadline;
  std::atomic<std::uint64_t> offered{0};
};

Priority pick_lane(const Plan& plan, std::uint32_t draw) {
  const unsigned x = draw % plan.lanes.back();
  Priority lane = 0;
  while (x >= plan.lanes[lane]) ++lane;
  return lane;
}

// Offers one task until it is accepted: the profiler measures load, it does
// not drop it. Returns false once the engine is shutting down.
bool offer(Plan& plan, Producer& producer, std::mt19937& rng) {
  const bool named = std::uniform_real_distribution<>(0, 1)(rng) < plan.o.named_fraction;
  const bool fail = std::uniform_real_distribution<>(0, 1)(rng) < plan.o.fail_fraction;
  const Priority lane = pick_lane(plan, static_cast<std::uint32_t>(rng()));
  const std::int64_t work_ns = plan.work_ns;
  for (std::uint64_t attempts = 1;; ++attempts) {
    SubmitStatus status;
    if (named) {
      status = producer.submit_for(plan.type, fail ? "f" : "", kCreditWait, TaskOptions{.priority = lane}).status;
    } else {
      status = producer.post_for(
          [work_ns, fail] {
            spin_for(work_ns);
            if (fail) throw std::runtime_error("injected failure");
          },
          kCreditWait, lane);
    }
    if (status == SubmitStatus::accepted) {
      plan.offered.fetch_add(attempts, std::memory_order_relaxed);
      return true;
    }
    if (status == SubmitStatus::rejected_shutdown) return false;
    if (status == SubmitStatus::rejected_full) std::this_thread::yield();
  }
}

void produce(Plan& plan, unsigned index, std::uint64_t tasks) {
  Producer producer = plan.engine.make_producer();
  std::mt19937 rng(index * 7919u + 1);
  const double per_producer_rate = plan.o.rate / plan.o.producers;
  for (std::uint64_t i = 0; plan.o.tasks != 0 ? i < tasks : SteadyClock::now() < plan.deadline; ++i) {
    if (per_producer_rate > 0) {
      // An absolute schedule: a late task does not push the later ones back.
      const auto due = plan.start + std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 * i / per_producer_rate));
      if (due - SteadyClock::now() > std::chrono::microseconds(200)) std::this_thread::sleep_until(due - std::chrono::microseconds(100));
      while (SteadyClock::now() < due) std::this_thread::yield();
    }
    if (!offer(plan, producer, rng)) return;
  }
}

EngineConfig engine_config(const ProfileOptions& o) {
  EngineConfig c;
  if (o.workers != 0) c.workers = o.workers;
  c.pin_workers = o.pin;
  c.spin_polls = o.spin_polls;
  c.steal_batch = o.steal_batch;
  c.ring_capacity = o.ring_capacity;
  c.credits = o.credits;
  c.observability.record_latency = true;
  c.observability.trace_events_per_worker = o.trace_events;
  return c;
}

std::vector<StatsSample> sample_until(const Engine& engine, const std::atomic<bool>& done, SteadyClock::time_point t0,
                                      std::chrono::milliseconds period) {
  std::vector<StatsSample> samples;
  while (!done.load(std::memory_order_acquire)) {
    std::this_thread::sleep_for(period);
    const EngineStats s = engine.stats();
    samples.push_back({std::chrono::duration<double>(SteadyClock::now() - t0).count(), s.executed, s.queued,
                       s.credits_outstanding});
  }
  return samples;
}

}  // namespace

WorkloadRun run_workload(const ProfileOptions& o) {
  WorkloadRun run;
  run.config = engine_config(o);
  Engine engine(run.config);
  TaskTypeOptions once;
  once.retry.max_attempts = 1;  // an injected failure is permanent: it shows up in the DLQ, not as retries
  const TaskType type = engine.register_task(
      "profile_work",
      [work_ns = static_cast<std::int64_t>(o.work_us * 1e3)](TaskContext& task) {
        spin_for(work_ns);
        return task.payload() == "f" ? Outcome::fail("injected failure") : Outcome::success();
      },
      once);
  Plan plan{o, engine, type, parse_priority_mix(o.priority_mix, run.config.priority_lanes),
            static_cast<std::int64_t>(o.work_us * 1e3), {}, {}};
  engine.start();

  LiveStatus status(engine);
  run.snapshot_before = engine.snapshot_json();
  std::atomic<bool> done{false};
  plan.start = SteadyClock::now();
  plan.deadline = plan.start + std::chrono::nanoseconds(static_cast<std::int64_t>(o.seconds * 1e9));
  std::thread sampler([&] { run.samples = sample_until(engine, done, plan.start, std::chrono::milliseconds(o.sample_ms)); });
  std::vector<std::thread> producers;
  for (unsigned p = 0; p < o.producers; ++p) {
    const std::uint64_t share = o.tasks / o.producers + (p < o.tasks % o.producers ? 1 : 0);
    producers.emplace_back([&plan, p, share] { produce(plan, p, share); });
  }
  for (auto& t : producers) t.join();
  engine.drain();
  run.wall_s = std::chrono::duration<double>(SteadyClock::now() - plan.start).count();
  done.store(true, std::memory_order_release);
  sampler.join();
  status.stop();

  run.stats = engine.stats();
  run.snapshot_after = engine.snapshot_json();
  run.offered = plan.offered.load();
  if (o.trace_events != 0) {
    std::ostringstream trace;
    engine.write_trace(trace);
    run.trace_json = std::move(trace).str();
  }
  return run;
}

}  // namespace brisk::tools

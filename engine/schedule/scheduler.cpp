// brisk::Scheduler: periodic tasks on the public Engine API. How it works,
// and why, in docs/architecture.md ("Periodic tasks").
#include "brisk/schedule.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "brisk/engine.hpp"
#include "metrics/latency_histogram.hpp"
#include "schedule/firing_keys.hpp"
#include "schedule/missed_slots.hpp"
#include "schedule/schedule_metrics.hpp"

namespace brisk {

namespace {

using schedule::kFiringPrefix;
using schedule::kWakeType;
using schedule::split_name_slot;

std::int64_t system_wall_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct ScheduleEntry {
  std::string name;
  Schedule schedule;
  std::string task_name;
  std::string payload;
  ScheduleOptions options;

  mutable std::mutex mutex;
  // Largest slot whose firing started (first attempt) in this process.
  std::int64_t last_started = std::numeric_limits<std::int64_t>::min();
  std::int64_t last_submitted = 0;
  // A refused submission the retry thread tries again (0: none).
  std::int64_t retry_slot = 0;
  bool retry_force_firing = false;
  // A firing of this schedule is running its handler (first attempt).
  int running = 0;
  std::int64_t running_slot = 0;
  std::uint64_t runs = 0, skipped_missed = 0, skipped_duplicate = 0;
  std::uint64_t submitted = 0, submit_duplicates = 0, submit_refused = 0;
  std::int64_t last_lag = 0;
  metrics::LatencyHistogram lag;  // written under `mutex`: one writer at a time

  ScheduleEntry(std::string n, Schedule s, std::string t, std::string p, ScheduleOptions o)
      : name(std::move(n)), schedule(std::move(s)), task_name(std::move(t)), payload(std::move(p)), options(o) {}
};

struct Scheduler::Impl {
  Engine& engine;
  SchedulerConfig config;
  const Clock* engine_clock;

  mutable std::mutex mutex;  // schedules, wrapped types, the thread
  std::map<std::string, std::unique_ptr<ScheduleEntry>, std::less<>> schedules;
  std::set<std::string, std::less<>> wrapped_types;
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
  std::atomic<std::uint64_t> dropped_unknown{0};
  std::thread retry_thread;
  std::condition_variable retry_cv;

  Impl(Engine& e, SchedulerConfig c)
      : engine(e), config(c), engine_clock(e.config().clock ? e.config().clock : &SteadyClock::instance()) {}

  std::int64_t wall_now() const noexcept { return config.wall_clock ? config.wall_clock->now_ns() : system_wall_ns(); }

  ScheduleEntry* find(std::string_view name) const {
    std::lock_guard lock(mutex);
    const auto it = schedules.find(name);
    return it == schedules.end() ? nullptr : it->second.get();
  }

  // Submits the firing of `slot` (or, when it is further than submit_ahead,
  // a wake that will). Called with e.mutex held.
  void submit_slot(ScheduleEntry& e, std::int64_t slot, bool force_firing) {
    if (stopped.load(std::memory_order_acquire)) return;
    const std::int64_t wall = wall_now();
    const std::int64_t now = engine_clock->now_ns();
    TaskOptions o;
    o.durability = e.options.durability;
    SubmitResult r;
    if (!force_firing && slot - wall > config.submit_ahead.count()) {
      o.priority = priority::high;
      o.run_at_ns = now + (slot - config.submit_ahead.count() - wall);
      o.idempotency_key = schedule::wake_key(e.name, slot);
      r = engine.submit(kWakeType, e.name + "\n" + std::to_string(slot), std::move(o));
    } else {
      o.priority = e.options.priority;
      if (slot > wall) o.run_at_ns = now + (slot - wall);
      o.idempotency_key = schedule::firing_key(e.name, slot);
      r = engine.submit(e.task_name, e.payload, std::move(o));
    }
    switch (r.status) {
      case SubmitStatus::accepted:
        ++e.submitted;
        break;
      case SubmitStatus::duplicate:
        ++e.submit_duplicates;
        break;
      case SubmitStatus::rejected_shutdown:
      case SubmitStatus::invalid:
        // Final: the engine is going away, or the submission can never pass
        // (counted; stats() shows the slot as not submitted).
        ++e.submit_refused;
        return;
      default:
        // Full, out of credits, a failed log: try again from the thread.
        ++e.submit_refused;
        e.retry_slot = slot;
        e.retry_force_firing = force_firing;
        retry_cv.notify_all();
        return;
    }
    e.retry_slot = 0;
    e.last_submitted = std::max(e.last_submitted, slot);
  }

  enum class Decision { run, skip_missed, skip_duplicate };

  // A firing's first attempt starts: run it, or not (the policy).
  Decision on_start(ScheduleEntry& e, std::int64_t slot, std::int64_t now) {
    std::lock_guard lock(e.mutex);
    if (slot <= e.last_started) {
      ++e.skipped_duplicate;
      return Decision::skip_duplicate;
    }
    e.last_started = slot;
    const bool run = schedule::runs_when_starting(e.schedule, e.options.missed, slot, now);
    if (!run) {
      ++e.skipped_missed;
      return Decision::skip_missed;
    }
    ++e.runs;
    ++e.running;
    e.running_slot = slot;
    e.last_lag = now - slot;
    e.lag.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - slot)));
    return Decision::run;
  }

  void on_end(ScheduleEntry& e, std::int64_t slot, bool was_running) {
    std::lock_guard lock(e.mutex);
    if (was_running) --e.running;
    const std::optional<std::int64_t> f = schedule::follow_on(e.schedule, e.options.missed, slot, wall_now());
    if (!f || *f <= e.last_started) return;
    // Slots the policy passed over without a firing count as missed.
    if (was_running || slot == e.last_started) e.skipped_missed += schedule::slots_between(e.schedule, slot, *f);
    submit_slot(e, *f, false);
  }

  Outcome fire(const Handler& handler, TaskContext& ctx) {
    std::string_view name;
    std::int64_t slot = 0;
    if (!split_name_slot(ctx.idempotency_key().substr(kFiringPrefix.size()), &name, &slot)) return handler(ctx);
    ScheduleEntry* e = find(name);
    if (e == nullptr) {  // a firing of a schedule no longer added
      dropped_unknown.fetch_add(1, std::memory_order_relaxed);
      return Outcome::success();
    }
    if (ctx.attempt() > 1) {  // a retry: the engine's retry policy, not ours
      struct End {
        Impl* self; ScheduleEntry* e; std::int64_t slot;
        ~End() { self->on_end(*e, slot, false); }
      } end{this, e, slot};
      return handler(ctx);
    }
    const Decision d = on_start(*e, slot, wall_now());
    if (d == Decision::skip_duplicate) return Outcome::success();
    if (d == Decision::skip_missed) {
      on_end(*e, slot, false);
      return Outcome::success();
    }
    struct End {
      Impl* self; ScheduleEntry* e; std::int64_t slot;
      ~End() { self->on_end(*e, slot, true); }
    } end{this, e, slot};
    return handler(ctx);
  }

  Outcome wake(TaskContext& ctx) {
    const std::string_view p = ctx.payload();
    const std::size_t cut = p.find('\n');
    std::string_view name;
    std::int64_t slot = 0;
    if (cut == std::string_view::npos) return Outcome::fail("brisk.schedule.wake: malformed payload");
    const std::string joined = std::string(p.substr(0, cut)) + "/" + std::string(p.substr(cut + 1));
    if (!split_name_slot(joined, &name, &slot)) return Outcome::fail("brisk.schedule.wake: malformed payload");
    ScheduleEntry* e = find(name);
    if (e == nullptr) {
      dropped_unknown.fetch_add(1, std::memory_order_relaxed);
      return Outcome::success();
    }
    std::lock_guard lock(e->mutex);
    if (slot > e->last_started) submit_slot(*e, slot, true);
    return Outcome::success();
  }

  void retry_loop() {
    std::unique_lock lock(mutex);
    while (!stopped.load(std::memory_order_acquire)) {
      retry_cv.wait_for(lock, std::chrono::milliseconds(100));
      if (stopped.load(std::memory_order_acquire)) break;
      std::vector<ScheduleEntry*> all;
      for (auto& [n, e] : schedules) all.push_back(e.get());
      lock.unlock();
      for (ScheduleEntry* e : all) {
        std::lock_guard entry_lock(e->mutex);
        if (e->retry_slot != 0) submit_slot(*e, e->retry_slot, e->retry_force_firing);
      }
      lock.lock();
    }
  }
};

Scheduler::Scheduler(Engine& engine, SchedulerConfig config) : impl_(std::make_shared<Impl>(engine, config)) {
  const auto retention = engine.config().idempotency_retention;
  if (config.submit_ahead < std::chrono::milliseconds(1))
    throw ConfigError("SchedulerConfig::submit_ahead must be at least 1 ms");
  if (config.submit_ahead * 2 >= retention)
    throw ConfigError("SchedulerConfig::submit_ahead (" + std::to_string(config.submit_ahead.count() / 1'000'000) +
                      " ms) must be less than half EngineConfig::idempotency_retention (" +
                      std::to_string(retention.count() / 1'000'000) +
                      " ms): a firing's idempotency key must outlive its wait, or a restart could submit its slot "
                      "twice");
  std::weak_ptr<Impl> weak = impl_;
  TaskTypeOptions wake_options;
  wake_options.retry.max_attempts = 5;
  engine.register_task(
      kWakeType,
      [weak](TaskContext& ctx) {
        const std::shared_ptr<Impl> impl = weak.lock();
        return impl ? impl->wake(ctx) : Outcome::success();
      },
      wake_options);
}

Scheduler::~Scheduler() { stop(); }

TaskType Scheduler::register_handler(std::string name, Handler handler, const TaskTypeOptions& options) {
  std::weak_ptr<Impl> weak = impl_;
  const std::string type_name = name;
  const TaskType type = impl_->engine.register_task(
      std::move(name),
      [weak, h = std::move(handler)](TaskContext& ctx) -> Outcome {
        if (ctx.idempotency_key().substr(0, kFiringPrefix.size()) != kFiringPrefix) return h(ctx);
        const std::shared_ptr<Impl> impl = weak.lock();
        if (!impl) return h(ctx);
        return impl->fire(h, ctx);
      },
      options);
  std::lock_guard lock(impl_->mutex);
  impl_->wrapped_types.insert(type_name);
  return type;
}

void Scheduler::add(std::string name, Schedule schedule, std::string task_name, std::string payload,
                    ScheduleOptions options) {
  const std::string what = "Scheduler::add(\"" + name + "\"): ";
  if (name.empty()) throw ConfigError("Scheduler::add: empty schedule name");
  if (name.find('\n') != std::string::npos) throw ConfigError(what + "the name may not contain a newline");
  const MissedSlots& m = options.missed;
  if (m.kind == MissedSlots::Kind::run_all && (m.max_runs < 1 || m.max_runs > 1000))
    throw ConfigError(what + "MissedSlots::run_all max_runs must be 1..1000 (got " + std::to_string(m.max_runs) + ")");
  if (m.grace.count() < 0) throw ConfigError(what + "MissedSlots::grace must not be negative");
  if (m.grace >= impl_->engine.config().idempotency_retention)
    throw ConfigError(what + "MissedSlots::grace must be shorter than EngineConfig::idempotency_retention");
  ScheduleEntry* entry = nullptr;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->wrapped_types.count(task_name) == 0)
      throw ConfigError(what + "task \"" + task_name +
                        "\" was not registered through Scheduler::register_task (the scheduler must see its firings "
                        "start and end)");
    if (impl_->schedules.count(name) != 0) throw ConfigError(what + "a schedule of that name already exists");
    auto e = std::make_unique<ScheduleEntry>(name, std::move(schedule), std::move(task_name), std::move(payload),
                                             options);
    entry = e.get();
    impl_->schedules.emplace(std::move(name), std::move(e));
  }
  if (impl_->started.load(std::memory_order_acquire)) {
    std::lock_guard lock(entry->mutex);
    if (const auto next = entry->schedule.next_after(impl_->wall_now())) impl_->submit_slot(*entry, *next, false);
  }
}

void Scheduler::start() {
  if (impl_->started.exchange(true)) return;
  std::vector<ScheduleEntry*> all;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& [n, e] : impl_->schedules) all.push_back(e.get());
  }
  for (ScheduleEntry* e : all) {
    std::lock_guard lock(e->mutex);
    if (const auto next = e->schedule.next_after(impl_->wall_now())) impl_->submit_slot(*e, *next, false);
  }
  std::lock_guard lock(impl_->mutex);
  Impl* impl = impl_.get();
  impl_->retry_thread = std::thread([impl] { impl->retry_loop(); });
}

void Scheduler::stop() {
  if (!impl_ || impl_->stopped.load()) return;
  // Hand over: a firing running now would submit its schedule's next slot
  // when it ends, which may be after the engine stopped accepting. Submit it
  // now, so the log holds it (its start will apply the policy).
  if (impl_->started.load()) {
    std::vector<ScheduleEntry*> all;
    {
      std::lock_guard lock(impl_->mutex);
      for (auto& [n, e] : impl_->schedules) all.push_back(e.get());
    }
    for (ScheduleEntry* e : all) {
      std::lock_guard lock(e->mutex);
      if (e->running > 0) {
        if (const auto next = e->schedule.next_after(e->running_slot)) impl_->submit_slot(*e, *next, false);
      }
    }
  }
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopped.store(true, std::memory_order_release);
  }
  impl_->retry_cv.notify_all();
  if (impl_->retry_thread.joinable()) impl_->retry_thread.join();
}

std::vector<ScheduleStats> Scheduler::stats() const {
  std::vector<ScheduleStats> out;
  std::lock_guard lock(impl_->mutex);
  for (const auto& [name, e] : impl_->schedules) {
    std::lock_guard entry_lock(e->mutex);
    ScheduleStats s;
    s.name = name;
    s.schedule = e->schedule.describe();
    s.next_slot_ns = e->last_submitted;
    s.runs = e->runs;
    s.skipped_missed = e->skipped_missed;
    s.skipped_duplicate = e->skipped_duplicate;
    s.submitted = e->submitted;
    s.submit_duplicates = e->submit_duplicates;
    s.submit_refused = e->submit_refused;
    s.last_lag_ns = e->last_lag;
    metrics::HistogramSnapshot h;
    h.merge(e->lag);
    s.lag_p50_ns = h.percentile(50);
    s.lag_p99_ns = h.percentile(99);
    s.lag_max_ns = h.max();
    s.lag_sum_ns = h.sum();
    out.push_back(std::move(s));
  }
  return out;
}

std::string Scheduler::prometheus_text() const {
  return schedule::prometheus_text(stats(), impl_->dropped_unknown.load(std::memory_order_relaxed));
}

}  // namespace brisk

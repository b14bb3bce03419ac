// Periodic tasks: a Scheduler submits a named task on a schedule (a fixed
// interval, or a 5-field cron expression in a time zone), firing from the
// engine's timer wheel.
//
//   brisk::Engine engine(config);                  // durable: config.durability.wal_dir
//   brisk::Scheduler scheduler(engine);            // before engine.start()
//   scheduler.register_task("report", handler);   // the scheduled type, through the scheduler
//   scheduler.add("nightly", brisk::Schedule::cron("0 3 * * *", "Europe/Berlin"), "report", "{}");
//   engine.start();
//   scheduler.start();                             // submits each schedule's next slot
//
// How it works (docs/architecture.md, "Periodic tasks"): each firing is the
// named task itself, submitted ahead of time as a delayed task with
// run_at_ns = its slot and the idempotency key
// "brisk.schedule/<schedule name>/<slot, wall-clock ns since the epoch>".
// When a firing's attempt ends, the scheduler submits the schedule's next
// slot. So:
//  * a firing starts within one timer tick of its slot (the wheel fires it);
//  * a schedule has at most one firing waiting or running at a time: a slow
//    handler never piles up firings of its own; slots that pass while it
//    runs are missed slots and follow the schedule's MissedSlots policy;
//  * with a durable engine, a restart recovers the pending firing from the
//    log, and the key makes re-submitting it a `duplicate`: a slot is
//    submitted once, so it fires once (execution stays at-least-once, as
//    for every durable task: TaskContext::idempotency_key() is the slot's
//    key, made for passing on to side effects);
//  * slots missed while the process was down are met by the recovered
//    firing, which runs late and applies the policy.
// Without a write-ahead log nothing survives a restart: the schedules start
// afresh at their next slot.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "brisk/clock.hpp"
#include "brisk/config.hpp"
#include "brisk/detail/as_handler.hpp"
#include "brisk/task.hpp"

namespace brisk {

class Engine;

// Invalid cron text. what() names the field and the 1-based character
// position, e.g.
//   cron "*/5 * 32 * *": day-of-month: 32 is out of range 1-31 (position 7)
class CronError : public ConfigError {
 public:
  CronError(const std::string& message, std::string field, std::size_t position)
      : ConfigError(message), field_(std::move(field)), position_(position) {}
  // "minute", "hour", "day-of-month", "month", "day-of-week", or "expression"
  // (the text as a whole: wrong number of fields, empty).
  const std::string& field() const noexcept { return field_; }
  // 1-based character position in the text where the problem starts.
  std::size_t position() const noexcept { return position_; }

 private:
  std::string field_;
  std::size_t position_;
};

namespace detail {
struct ScheduleRule;
}

// When a schedule fires: a set of instants (slots), each a wall-clock time
// in nanoseconds since the Unix epoch (UTC).
class Schedule {
 public:
  // Slots at phase + k * period since the Unix epoch: every(5min) fires at
  // :00, :05, :10 ... UTC, the same slots in every process and after every
  // restart. period >= 1 ms; 0 <= phase < period. Throws ConfigError.
  static Schedule every(std::chrono::nanoseconds period, std::chrono::nanoseconds phase = {});

  // Standard 5-field cron: minute hour day-of-month month day-of-week, each
  // `*`, a number, a range `a-b`, a step `*/n`, `a-b/n` or `a/n` (a to the
  // field's end), or a comma list of these; months JAN-DEC and days SUN-SAT
  // by name (any case); day-of-week 0-7 (0 and 7 are Sunday). As in Vixie
  // cron, when both day fields are restricted (neither starts with `*`) a
  // day matches if EITHER matches. Also @yearly (@annually), @monthly,
  // @weekly, @daily (@midnight), @hourly.
  //
  // time_zone: an IANA name ("Europe/Berlin", read from the system's
  // zoneinfo, $TZDIR or /usr/share/zoneinfo) or "UTC". Daylight saving
  // follows Vixie cron's rule:
  //  * a fixed-time job (neither minute nor hour starts with `*`) whose time
  //    falls in a skipped hour runs once at the end of the gap (the first
  //    valid instant: 02:30 on a spring-forward night runs at 03:00); in a
  //    repeated hour it runs once, at the first of the two;
  //  * a wildcard job (`*/15 * * * *`, `5 * * * *`) follows real time: no
  //    run for times that do not exist, runs in both passes of a repeated
  //    hour.
  // Throws CronError for bad text, ConfigError for an unknown time zone or
  // an expression that never fires (`0 0 30 2 *`).
  static Schedule cron(std::string_view expression, std::string_view time_zone = "UTC");

  // The first slot strictly after wall_ns; nullopt if there is none.
  std::optional<std::int64_t> next_after(std::int64_t wall_ns) const;
  // The last slot at or before wall_ns; nullopt if there is none within
  // 10 years.
  std::optional<std::int64_t> last_at_or_before(std::int64_t wall_ns) const;
  // "every 300s" / "cron '0 3 * * *' Europe/Berlin".
  std::string describe() const;

 private:
  explicit Schedule(std::shared_ptr<const detail::ScheduleRule> rule) : rule_(std::move(rule)) {}
  std::shared_ptr<const detail::ScheduleRule> rule_;
};

// What a firing that starts late does (late: a newer slot of the schedule
// has already come, or it started more than `grace` after its slot):
// slots are missed while the process is down, or while the schedule's
// previous firing runs past them (a slow handler).
struct MissedSlots {
  enum class Kind : std::uint8_t {
    skip,      // missed slots do not run; the schedule resumes at its next slot
    run_once,  // the newest missed slot runs once, at once; older ones do not
    run_all,   // the newest `max_runs` missed slots run, one after the other
  };
  Kind kind = Kind::skip;
  std::uint32_t max_runs = 1;  // run_all only: 1 .. 1000
  // A firing that starts at most this late, with no newer slot come, is on
  // time (under load a firing starts a little after its slot): it runs
  // under every policy.
  std::chrono::nanoseconds grace = std::chrono::seconds(60);

  static MissedSlots skip(std::chrono::nanoseconds grace = std::chrono::seconds(60)) {
    return {Kind::skip, 1, grace};
  }
  static MissedSlots run_once() { return {Kind::run_once, 1, std::chrono::seconds(60)}; }
  static MissedSlots run_all(std::uint32_t max_runs) { return {Kind::run_all, max_runs, std::chrono::seconds(60)}; }
};

struct ScheduleOptions {
  MissedSlots missed = MissedSlots::skip();
  Priority priority = priority::normal;
  Durability durability = Durability::engine_default;
};

struct SchedulerConfig {
  // A firing is submitted at most this long before its slot; a later slot
  // (a monthly cron) first gets a small "wake" task this long before it,
  // which submits the firing. Its key must outlive its wait, so this must be
  // shorter than half EngineConfig::idempotency_retention (ConfigError).
  std::chrono::nanoseconds submit_ahead = std::chrono::hours(1);
  // The wall clock slots are computed on (nanoseconds since the Unix epoch);
  // nullptr: the system clock. Tests pass a manual one. Must outlive the
  // scheduler.
  const Clock* wall_clock = nullptr;
};

// Per-schedule counters (Scheduler::stats()).
struct ScheduleStats {
  std::string name;
  std::string schedule;               // Schedule::describe()
  std::int64_t next_slot_ns = 0;      // the slot last submitted (wall clock), 0: none yet
  std::uint64_t runs = 0;             // firings whose handler was called (first attempts)
  // Slots that did not run because they were missed (per the policy): late
  // firings that were skipped, and slots passed over without a firing.
  std::uint64_t skipped_missed = 0;
  std::uint64_t skipped_duplicate = 0;  // a slot that already started in this process
  std::uint64_t submitted = 0;        // firings (and wakes) accepted by the engine
  std::uint64_t submit_duplicates = 0;  // answered `duplicate`: already pending or fired
  std::uint64_t submit_refused = 0;   // refused (full, shutting down, ...): retried by the scheduler
  // Lag: start of a firing's first attempt minus its slot (wall clock).
  std::int64_t last_lag_ns = 0;
  std::uint64_t lag_p50_ns = 0;
  std::uint64_t lag_p99_ns = 0;
  std::uint64_t lag_max_ns = 0;
  std::uint64_t lag_sum_ns = 0;  // of the `runs` lags: their mean is lag_sum_ns / runs
};

class Scheduler {
 public:
  // Registers the scheduler's internal task type ("brisk.schedule.wake"):
  // construct it before engine.start(), one scheduler per engine. Throws
  // ConfigError otherwise (the type is already registered, or registration
  // is closed), or for a bad config. The engine must outlive the scheduler.
  explicit Scheduler(Engine& engine, SchedulerConfig config = {});
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Engine::register_task, with the handler wrapped so the scheduler sees a
  // firing start and end (that is how it knows when to submit the next
  // slot, and which firings are late). A schedule's task type must be
  // registered here. Tasks of this type submitted without a schedule's key
  // run the handler as usual. Before engine.start().
  template <class F>
  TaskType register_task(std::string name, F&& handler, TaskTypeOptions options = {}) {
    return register_handler(std::move(name), detail::as_handler(std::forward<F>(handler)), options);
  }

  // Adds a schedule: `task_name` (registered through register_task above)
  // with `payload`, fired on `schedule`. Add every schedule before
  // engine.start(): a firing the log recovers for a schedule not (yet)
  // added is dropped as belonging to a removed schedule. Added after
  // start(), it is submitted at once. Throws ConfigError: an empty or
  // duplicate name, a name containing '\n', an unknown task, a bad policy.
  void add(std::string name, Schedule schedule, std::string task_name, std::string payload = {},
           ScheduleOptions options = {});

  // After engine.start(): submits each schedule's next slot (a `duplicate`
  // answer means the log already holds it) and starts the thread that
  // retries refused submissions. Idempotent.
  void start();
  // Stops submitting (firings already submitted still run). The destructor
  // calls it.
  void stop();

  std::vector<ScheduleStats> stats() const;
  // brisk_schedule_* metrics in Prometheus text format, to append to
  // Engine::prometheus_text().
  std::string prometheus_text() const;

  struct Impl;

 private:
  TaskType register_handler(std::string name, Handler handler, const TaskTypeOptions& options);
  std::shared_ptr<Impl> impl_;
};

}  // namespace brisk

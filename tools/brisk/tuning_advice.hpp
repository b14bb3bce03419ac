// Tuning advice for `brisk profile`: plain rules over measured numbers.
//
// Header-only and free of engine types so the unit tests (which do not link
// tools/) can feed it numbers directly. Every rule names the EngineConfig
// field to change and quotes the measurement that triggered it; the
// thresholds are constants below, each with the reason for its value.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace brisk::tools {

// What the profiler measured. A negative value means "not measured" (for
// example a recorded trace carries no rejection counters); a rule that needs
// an unmeasured number stays silent.
struct Measurements {
  double wall_s = -1;
  double workers = -1;
  double executed = -1;
  // Per job, nanoseconds.
  double queue_wait_p50_ns = -1, queue_wait_p99_ns = -1;
  double run_time_p50_ns = -1, run_time_mean_ns = -1;
  // Fractions of worker time (workers * wall).
  double busy_fraction = -1;
  double parks_per_worker_s = -1;
  // Jobs taken from another worker's shard / jobs executed; jobs per steal.
  double steal_fraction = -1, jobs_per_steal = -1;
  // Share of all jobs that were pushed to the busiest shard, and which.
  double top_shard_share = -1;
  int top_shard = -1;
  // Refused submissions and the share of producer time spent blocked.
  double offered = -1, rejected_full = -1, rejected_backpressure = -1;
  double producer_blocked_fraction = -1;
  double trace_dropped = -1;
  // The configuration that was measured (negative: unknown).
  double spin_polls = -1, steal_batch = -1, ring_capacity = -1, credits = -1;
  double trace_events_per_worker = -1;
  // The host (/proc/self/task/<tid>/schedstat and status of each worker):
  // the share of a worker's wall time it was runnable but waiting for a
  // CPU, and its involuntary context switches per second (averages).
  double runnable_wait_fraction = -1, involuntary_per_worker_s = -1;
  // Yields that lost the CPU for a time slice while work waited (the
  // workers then park at once for a while), per worker-second.
  double stranded_yields_per_worker_s = -1;
  // Task types that have a limit of their own, over the run.
  struct TypeLimit {
    std::string name;
    double max_concurrency = 0, rate_per_second = 0;  // 0: none
    double accepted = 0, rate_limited = 0;
    double parked_at_limit = 0;  // waiting for a concurrency slot at the end
  };
  std::vector<TypeLimit> type_limits;
  // The log: its policy (1: always), fsync latency p99, records per batch
  // (group-commit size, p50).
  double fsync_always = -1, wal_fsync_p99_ns = -1, wal_batch_records_p50 = -1;
};

struct Advice {
  std::string field;  // the EngineConfig field (or workload knob) to change
  std::string text;   // what to do and the number behind it
  // Every rule gives these too: the value now ("unknown" when the run did
  // not say, as a recorded trace does not), the one to try, and the
  // measurement from this run that says so.
  std::string current, suggested, evidence;
};

namespace advice_rules {

// One shard receives more than half of all jobs and 1.5x its fair share
// (1/workers): most of what the other workers run they must steal.
inline constexpr double kShardShare = 0.5;
inline constexpr double kShardOverFair = 1.5;
// Waking a parked worker costs a futex wake plus a reschedule (5-50 us).
// Above 100 parks per worker-second that cost is paid between most bursts...
inline constexpr double kParksPerWorkerS = 100;
// ...and it matters when the tail wait is an order of magnitude above the
// work itself (with a floor: a 20 us p99 is fine whatever the work).
inline constexpr double kWaitOverRun = 10;
inline constexpr double kWaitFloorNs = 20'000;
// Refusals: any rejection by full rings is worth a line; producers blocked
// for more than 5% of their time are throttled, not just shaped.
inline constexpr double kBlockedFraction = 0.05;
// Stealing more than 30% of jobs in steals that are tasks of < 5 us: the
// per-steal claim and cache misses are a visible share of the work.
inline constexpr double kStealFraction = 0.3;
inline constexpr double kSmallTaskNs = 5'000;
// Workers busy less than 25% of the time: fewer would do, at 70% busy
// (headroom for bursts).
inline constexpr double kIdleBusy = 0.25;
inline constexpr double kTargetBusy = 0.7;
// Queue wait above 4x run time while workers are over 75% busy: the
// workers are saturated, the wait is queueing, not wake-up latency.
inline constexpr double kQueueOverRun = 4;
inline constexpr double kSaturatedBusy = 0.75;
// A worker that waits for a CPU 5% of its time, or is preempted 100 times
// a second, shares its CPU with other runnable threads: each preemption
// costs a time slice (several ms) to whatever the worker held.
inline constexpr double kRunnableWait = 0.05;
inline constexpr double kInvoluntaryPerS = 100;
// A group commit of two records or fewer per fdatasync that takes over
// 1 ms: every durable task pays a whole fsync of its own.
inline constexpr double kSmallGroup = 2;
inline constexpr double kSlowFsyncNs = 1e6;

}  // namespace advice_rules

namespace detail {

inline bool known(double v) { return v >= 0; }

// printf into a std::string: advice lines are short and numeric.
template <class... Args>
std::string format(const char* fmt, Args... args) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

// "now 2000" when the configured value is known, "" otherwise.
inline std::string now_value(double v) { return known(v) ? format(" (now %.0f)", v) : std::string(); }

// A configured value for Advice::current: "2000", or "unknown".
inline std::string value_or_unknown(double v) { return known(v) ? format("%.0f", v) : std::string("unknown"); }

// `factor` times a known value ("32"), else what to do ("larger").
inline std::string scaled(double v, double factor, const char* otherwise) {
  return known(v) ? format("%.0f", std::max(1.0, v) * factor) : std::string(otherwise);
}

}  // namespace detail

inline std::vector<Advice> tuning_advice(const Measurements& m) {
  using namespace advice_rules;
  using detail::format;
  using detail::known;
  using detail::now_value;
  using detail::scaled;
  using detail::value_or_unknown;
  std::vector<Advice> out;

  if (known(m.top_shard_share) && known(m.workers) && m.workers >= 2 &&
      m.top_shard_share > std::max(kShardShare, kShardOverFair / m.workers)) {
    out.push_back({"steal_batch",
                   format("shard %d received %.0f%% of all jobs (fair share %.0f%%): producers share an "
                          "affinity (one submitting thread, or all on one worker). Submit from more threads, "
                          "or raise steal_batch%s so thieves move more per steal.",
                          m.top_shard, 100 * m.top_shard_share, 100 / m.workers, now_value(m.steal_batch).c_str()),
                   value_or_unknown(m.steal_batch), scaled(m.steal_batch, 2, "larger, or submit from more threads"),
                   format("shard %d received %.0f%% of all jobs against a fair %.0f%%", m.top_shard,
                          100 * m.top_shard_share, 100 / m.workers)});
  }

  // Not when yields strand work: the workers park because the host's
  // threads take their CPUs, and a longer spin would only yield more (the
  // host rule below names that case).
  const bool host_takes_cpus = known(m.stranded_yields_per_worker_s) && m.stranded_yields_per_worker_s > 0;
  if (!host_takes_cpus && known(m.parks_per_worker_s) && known(m.queue_wait_p99_ns) && known(m.run_time_p50_ns) &&
      m.parks_per_worker_s > kParksPerWorkerS && m.queue_wait_p99_ns > kWaitFloorNs &&
      m.queue_wait_p99_ns > kWaitOverRun * std::max(m.run_time_p50_ns, 1.0)) {
    const double next = known(m.spin_polls) ? std::max(4 * m.spin_polls, 1000.0) : -1;
    out.push_back({"spin_polls",
                   format("workers park %.0f times per second each and wake late (queue-wait p99 %.1f us vs "
                          "run time p50 %.1f us): lengthen spin_polls%s%s so a worker is still searching when "
                          "the next burst arrives (costs CPU while idle).",
                          m.parks_per_worker_s, m.queue_wait_p99_ns / 1e3, m.run_time_p50_ns / 1e3,
                          now_value(m.spin_polls).c_str(), known(next) ? format(", try %.0f", next).c_str() : ""),
                   value_or_unknown(m.spin_polls), known(next) ? format("%.0f", next) : "longer",
                   format("%.0f parks per worker-second; queue-wait p99 %.1f us against run time p50 %.1f us",
                          m.parks_per_worker_s, m.queue_wait_p99_ns / 1e3, m.run_time_p50_ns / 1e3)});
  }

  if (known(m.rejected_full) && m.rejected_full > 0) {
    const double share = known(m.offered) && m.offered > 0 ? m.rejected_full / m.offered : -1;
    out.push_back({"ring_capacity",
                   format("%.0f submissions were rejected because every ring was full%s: raise ring_capacity%s "
                          "to absorb bursts, or add workers if they are saturated.",
                          m.rejected_full, known(share) ? format(" (%.2f%% of offers)", 100 * share).c_str() : "",
                          now_value(m.ring_capacity).c_str()),
                   value_or_unknown(m.ring_capacity), scaled(m.ring_capacity, 2, "larger"),
                   format("%.0f rejected_full%s", m.rejected_full,
                          known(share) ? format(" (%.2f%% of offers)", 100 * share).c_str() : "")});
  }

  const bool blocked = known(m.producer_blocked_fraction) && m.producer_blocked_fraction > kBlockedFraction;
  if ((known(m.rejected_backpressure) && m.rejected_backpressure > 0) || blocked) {
    const bool saturated = known(m.busy_fraction) && m.busy_fraction > kSaturatedBusy;
    out.push_back({"credits",
                   format("producers met backpressure: %.0f refusals, blocked %.1f%% of their time. %s%s.",
                          std::max(m.rejected_backpressure, 0.0), 100 * std::max(m.producer_blocked_fraction, 0.0),
                          saturated ? "Workers are saturated, so more credits would only queue more: add workers "
                                      "or shed load rather than raising credits"
                                    : "Workers have headroom: raise credits",
                          now_value(m.credits).c_str()),
                   value_or_unknown(m.credits),
                   saturated ? format("%s (add workers instead)", value_or_unknown(m.credits).c_str())
                             : scaled(m.credits, 2, "larger"),
                   format("%.0f rejected_backpressure, producers blocked %.1f%% of their time, workers %s busy",
                          std::max(m.rejected_backpressure, 0.0), 100 * std::max(m.producer_blocked_fraction, 0.0),
                          known(m.busy_fraction) ? format("%.0f%%", 100 * m.busy_fraction).c_str() : "(unknown)")});
  }

  if (known(m.steal_fraction) && known(m.run_time_mean_ns) && m.steal_fraction > kStealFraction &&
      m.run_time_mean_ns < kSmallTaskNs) {
    out.push_back({"steal_batch",
                   format("%.0f%% of jobs were stolen (%.1f per steal) and a job runs %.2f us on average: raise "
                          "steal_batch%s so each steal amortises its claim over more small jobs.",
                          100 * m.steal_fraction, std::max(m.jobs_per_steal, 0.0), m.run_time_mean_ns / 1e3,
                          now_value(m.steal_batch).c_str()),
                   value_or_unknown(m.steal_batch), scaled(m.steal_batch, 2, "larger"),
                   format("%.0f%% of jobs stolen, %.1f per steal, %.2f us per job", 100 * m.steal_fraction,
                          std::max(m.jobs_per_steal, 0.0), m.run_time_mean_ns / 1e3)});
  }

  if (known(m.busy_fraction) && known(m.workers) && m.workers > 1 && m.busy_fraction < kIdleBusy) {
    const double enough = std::max(1.0, std::ceil(m.busy_fraction * m.workers / kTargetBusy));
    out.push_back({"workers",
                   format("workers were busy %.1f%% of the time: %.0f worker(s) would run this load at about "
                          "%.0f%% busy (now %.0f), freeing CPUs.",
                          100 * m.busy_fraction, enough, 100 * kTargetBusy, m.workers),
                   format("%.0f", m.workers), format("%.0f", enough),
                   format("workers busy %.1f%% of the time", 100 * m.busy_fraction)});
  }

  if (known(m.queue_wait_p50_ns) && known(m.run_time_mean_ns) && known(m.busy_fraction) &&
      m.busy_fraction > kSaturatedBusy && m.queue_wait_p50_ns > kQueueOverRun * std::max(m.run_time_mean_ns, 1.0)) {
    // Enough workers to bring the measured load to the target busy share.
    const double more = known(m.workers) ? std::max(m.workers + 1, std::ceil(m.workers * m.busy_fraction / kTargetBusy))
                                         : -1;
    out.push_back({"workers",
                   format("queue wait dominates: p50 %.1f us against %.2f us of run time, with workers %.0f%% "
                          "busy: add workers%s or lower the offered load.",
                          m.queue_wait_p50_ns / 1e3, m.run_time_mean_ns / 1e3, 100 * m.busy_fraction,
                          now_value(m.workers).c_str()),
                   value_or_unknown(m.workers), known(more) ? format("%.0f", more) : "more",
                   format("queue wait p50 %.1f us against %.2f us of run time, workers %.0f%% busy",
                          m.queue_wait_p50_ns / 1e3, m.run_time_mean_ns / 1e3, 100 * m.busy_fraction)});
  }

  if ((known(m.runnable_wait_fraction) && m.runnable_wait_fraction > kRunnableWait) ||
      (known(m.involuntary_per_worker_s) && m.involuntary_per_worker_s > kInvoluntaryPerS) || host_takes_cpus) {
    const double fewer = known(m.workers) ? std::max(1.0, m.workers - 1) : -1;
    Advice a{"workers",
             format("the host's threads compete with brisk's workers for CPUs: each worker waited %.1f%% of its time "
                    "runnable but not running and was preempted %.0f times a second. Reserve cores for brisk "
                    "(pin_workers = true, cpus = the reserved ones, keep the service's threads off them) or lower "
                    "workers%s%s.",
                    100 * std::max(m.runnable_wait_fraction, 0.0), std::max(m.involuntary_per_worker_s, 0.0),
                    now_value(m.workers).c_str(), known(fewer) ? format(", try %.0f", fewer).c_str() : ""),
             known(m.workers) ? format("%.0f", m.workers) : "",
             known(fewer) ? format("%.0f, or pinned to reserved cores", fewer) : "pinned to reserved cores",
             format("runnable-not-running %.1f%% of worker time, %.0f involuntary switches per worker-second, "
                    "%.2f stranded yields per worker-second",
                    100 * std::max(m.runnable_wait_fraction, 0.0), std::max(m.involuntary_per_worker_s, 0.0),
                    std::max(m.stranded_yields_per_worker_s, 0.0))};
    out.push_back(std::move(a));
  }

  for (const Measurements::TypeLimit& t : m.type_limits) {
    if (t.max_concurrency > 0 && t.parked_at_limit > 0) {
      out.push_back({"TaskTypeOptions::max_concurrency (" + t.name + ")",
                     format("task type '%s' is held back by its own concurrency limit: %.0f task(s) wait for one of "
                            "its %.0f slots. Raise max_concurrency if what it calls can take more, else this "
                            "queue is the limit doing its job.",
                            t.name.c_str(), t.parked_at_limit, t.max_concurrency),
                     format("%.0f", t.max_concurrency), format("%.0f", 2 * t.max_concurrency),
                     format("%.0f waiting at the limit", t.parked_at_limit)});
    }
    if (t.rate_per_second > 0 && t.rate_limited > 0) {
      const double wanted = known(m.wall_s) && m.wall_s > 0 ? t.accepted / m.wall_s : -1;
      out.push_back({"TaskTypeOptions::rate_per_second (" + t.name + ")",
                     format("task type '%s' is held back by its own rate limit: %.0f start(s) deferred at %.0f/s%s.",
                            t.name.c_str(), t.rate_limited, t.rate_per_second,
                            known(wanted) ? format(" while %.0f/s were submitted", wanted).c_str() : ""),
                     format("%.0f", t.rate_per_second),
                     known(wanted) ? format("%.0f", std::ceil(wanted)) : format("> %.0f", t.rate_per_second),
                     format("%.0f starts deferred by the limit", t.rate_limited)});
    }
  }

  if (known(m.fsync_always) && m.fsync_always > 0 && known(m.wal_batch_records_p50) && known(m.wal_fsync_p99_ns) &&
      m.wal_batch_records_p50 <= kSmallGroup && m.wal_fsync_p99_ns > kSlowFsyncNs) {
    out.push_back({"durability.fsync",
                   format("each fdatasync covered %.0f record(s) (group-commit p50) and took up to %.1f ms (p99): "
                          "durable submissions are serialised on the disk. Submit from more threads at once (they "
                          "share an fsync), or accept fsync = interval if losing the last interval on power loss "
                          "is acceptable.",
                          m.wal_batch_records_p50, m.wal_fsync_p99_ns / 1e6),
                   "always", "interval (or more concurrent submitters)",
                   format("%.0f records per batch, fsync p99 %.1f ms", m.wal_batch_records_p50,
                          m.wal_fsync_p99_ns / 1e6)});
  }

  if (known(m.trace_dropped) && m.trace_dropped > 0) {
    out.push_back({"observability.trace_events_per_worker",
                   format("%.0f trace events were dropped (full trace rings): the trace covers only part of the "
                          "run; raise observability.trace_events_per_worker (--trace-events).",
                          m.trace_dropped),
                   value_or_unknown(m.trace_events_per_worker), scaled(m.trace_events_per_worker, 4, "larger"),
                   format("%.0f trace events dropped", m.trace_dropped)});
  }
  return out;
}

}  // namespace brisk::tools

#include "schedule/schedule_metrics.hpp"

#include "metrics/prometheus_text.hpp"

namespace brisk::schedule {

std::string prometheus_text(std::span<const ScheduleStats> schedules, std::uint64_t dropped) {
  constexpr double kSeconds = 1e9;  // ns per s: Prometheus' base unit
  metrics::PrometheusText out;
  for (const ScheduleStats& s : schedules) {
    const metrics::Labels labels{{"schedule", s.name}};
    out.counter("brisk_schedule_runs_total", "Firings whose handler was called.", labels,
                static_cast<double>(s.runs));
    const char* skipped_help = "Firings not run: missed (per the policy) or duplicate.";
    out.counter("brisk_schedule_skipped_total", skipped_help, {{"schedule", s.name}, {"reason", "missed"}},
                static_cast<double>(s.skipped_missed));
    out.counter("brisk_schedule_skipped_total", skipped_help, {{"schedule", s.name}, {"reason", "duplicate"}},
                static_cast<double>(s.skipped_duplicate));
    out.counter("brisk_schedule_submit_refused_total", "Submissions of a slot the engine refused (retried).", labels,
                static_cast<double>(s.submit_refused));
    const metrics::PrometheusQuantile lag[] = {{0.5, s.lag_p50_ns / kSeconds}, {0.99, s.lag_p99_ns / kSeconds}};
    out.summary("brisk_schedule_lag_seconds", "Start of a firing minus its slot (wall clock).", labels, lag,
                s.lag_sum_ns / kSeconds, s.runs);
    out.gauge("brisk_schedule_last_lag_seconds", "Lag of the latest firing that ran.", labels,
              s.last_lag_ns / kSeconds);
    out.gauge("brisk_schedule_next_slot_timestamp_seconds", "The latest slot submitted (Unix time).", labels,
              s.next_slot_ns / kSeconds);
  }
  out.counter("brisk_schedule_dropped_total", "Firings of a schedule that is no longer added.", {},
              static_cast<double>(dropped));
  return out.str();
}

}  // namespace brisk::schedule

#include "observe/prometheus_export.hpp"

#include <array>

#include "metrics/prometheus_text.hpp"

namespace brisk::detail {

namespace {

using metrics::Labels;

constexpr std::array<double, 14> kLatencyBoundsS = {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4,
                                                    2.5e-4, 5e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0};

void latency(metrics::PrometheusText& out, const char* name, const char* help,
             const metrics::HistogramSnapshot& h) {
  const auto buckets = metrics::seconds_buckets(h, kLatencyBoundsS);
  out.histogram(name, help, {}, buckets, static_cast<double>(h.sum()) / 1e9, h.count());
}

}  // namespace

std::string render_prometheus(const EngineStats& s, const EngineHistograms& h) {
  metrics::PrometheusText out;
  const auto d = [](auto v) { return static_cast<double>(v); };

  out.counter("brisk_jobs_accepted_total", "Jobs accepted into the rings (closures, named tasks, retries).", {},
              d(s.accepted));
  for (const auto& [reason, value] :
       {std::pair{"full", s.rejected_full}, std::pair{"backpressure", s.rejected_backpressure},
        std::pair{"shutdown", s.rejected_shutdown}, std::pair{"invalid", s.rejected_invalid}}) {
    out.counter("brisk_submissions_rejected_total", "Submissions refused, by reason.", {{"reason", reason}},
                d(value));
  }
  out.counter("brisk_jobs_executed_total", "Jobs run by workers.", {}, d(s.executed));
  out.counter("brisk_jobs_failed_total", "Closures that threw.", {}, d(s.failed));
  out.counter("brisk_jobs_stolen_total", "Jobs taken from another worker's shard.", {}, d(s.stolen));
  out.gauge("brisk_queue_depth", "Jobs accepted and not yet taken by a worker.", {}, d(s.queued));
  out.counter("brisk_task_overflow_total", "Posts and submits from tasks taken into their worker's overflow (lane full).",
              {}, d(s.overflowed));
  out.gauge("brisk_task_overflow_depth", "Jobs waiting in the workers' overflows.", {}, d(s.overflow_depth));
  out.counter("brisk_task_overflow_refused_total",
              "Posts and submits from tasks refused because their worker's overflow was full too.", {},
              d(s.overflow_refused));
  for (std::size_t lane = 0; lane < s.lanes.size(); ++lane) {
    const Labels l{{"lane", std::to_string(lane)}};
    out.counter("brisk_lane_accepted_total", "Jobs pushed into each priority lane.", l, d(s.lanes[lane].accepted));
    out.gauge("brisk_lane_queue_depth", "Jobs waiting in each priority lane.", l, d(s.lanes[lane].queued));
  }
  out.gauge("brisk_credits_capacity", "Credits the engine grants to producers.", {}, d(s.credits_capacity));
  out.gauge("brisk_credits_outstanding", "Credits spent and not yet returned.", {}, d(s.credits_outstanding));
  out.counter("brisk_producer_blocked_seconds_total", "Time producers spent waiting for credits.", {},
              d(s.producer_blocked_ns) / 1e9);
  out.gauge("brisk_named_tasks_in_flight", "Named tasks accepted and not yet final.", {}, d(s.named_in_flight));
  out.gauge("brisk_timers_pending", "Named tasks waiting on a delay, backoff or rate limit.", {},
            d(s.pending_timers));
  out.gauge("brisk_dead_letters", "Tasks in the dead-letter queue.", {}, d(s.dead_letters));
  out.counter("brisk_dead_letters_dropped_total", "Oldest dead letters dropped by a full queue.", {},
              d(s.dead_letters_dropped));
  out.gauge("brisk_finished_tasks_remembered", "Finished tasks whose state status() still answers.", {},
            d(s.finished_remembered));
  out.counter("brisk_finished_tasks_evicted_total", "Finished tasks forgotten for count or retention.", {},
              d(s.finished_evicted));
  out.gauge("brisk_batches_open", "Batches not yet complete, sealed or not.", {}, d(s.batches_open));
  out.counter("brisk_batch_callbacks_submitted_total", "Batch callbacks submitted.", {},
              d(s.batch_callbacks_submitted));
  out.counter("brisk_wal_records_total", "Records appended to the write-ahead log.", {}, d(s.wal_records));
  out.counter("brisk_wal_bytes_total", "Bytes written to the write-ahead log.", {}, d(s.wal_bytes));
  out.counter("brisk_wal_batches_total", "Group-commit batches written.", {}, d(s.wal_batches));
  out.counter("brisk_wal_syncs_total", "fdatasync calls made by the log.", {}, d(s.wal_syncs));
  out.gauge("brisk_wal_batch_bytes_max", "Largest group-commit batch.", {}, d(s.wal_largest_batch_bytes));
  out.gauge("brisk_wal_failed", "1 when the log has failed (disk full, I/O error).", {}, s.wal_failed ? 1 : 0);
  out.counter("brisk_durability_failures_total", "Durable submissions refused because the log failed.", {},
              d(s.durability_failures));
  out.counter("brisk_trace_events_dropped_total", "Trace events lost to full trace rings.", {}, d(s.trace_dropped));

  for (const TaskTypeStats& t : s.task_types) {
    const Labels l{{"type", t.name}};
    out.counter("brisk_tasks_accepted_total", "Named tasks accepted, by type.", l, d(t.accepted));
    out.counter("brisk_tasks_succeeded_total", "Named tasks that succeeded, by type.", l, d(t.succeeded));
    out.counter("brisk_task_attempts_failed_total", "Attempts that failed (retry, fail or throw), by type.", l,
                d(t.failed_attempts));
    out.counter("brisk_tasks_retried_total", "Retries scheduled, by type.", l, d(t.retried));
    out.counter("brisk_tasks_dead_lettered_total", "Tasks moved to the dead-letter queue, by type.", l,
                d(t.dead_lettered));
    out.counter("brisk_tasks_cancelled_total", "Tasks cancelled before they ran, by type.", l, d(t.cancelled));
    out.counter("brisk_task_attempts_timed_out_total", "Attempts past the type's hard limit, by type.", l,
                d(t.timed_out));
    out.counter("brisk_task_late_results_total", "Discarded results of timed-out attempts, by type.", l,
                d(t.late_results));
    out.counter("brisk_tasks_rate_limited_total", "Times a task waited for its type's rate limit.", l,
                d(t.rate_limited));
  }

  for (std::size_t w = 0; w < s.workers.size(); ++w) {
    const WorkerStats& ws = s.workers[w];
    const Labels l{{"worker", std::to_string(w)}};
    out.counter("brisk_worker_executed_total", "Jobs run, by worker.", l, d(ws.executed));
    out.counter("brisk_worker_busy_seconds_total", "Time running jobs, by worker.", l, d(ws.busy_ns) / 1e9);
    out.counter("brisk_worker_parked_seconds_total", "Time asleep on the futex, by worker.", l,
                d(ws.parked_ns) / 1e9);
    out.counter("brisk_worker_parks_total", "Times the worker parked.", l, d(ws.parks));
    out.counter("brisk_worker_stranded_yields_total",
                "Times a yielding worker left work waiting a time slice (then it parks instead for a while).", l,
                d(ws.stranded_yields));
    out.counter("brisk_worker_stolen_total", "Jobs stolen by the worker.", l, d(ws.stolen));
    const double up = d(s.uptime_ns);
    out.gauge("brisk_worker_utilisation", "Busy time / uptime, by worker.", l, up > 0 ? d(ws.busy_ns) / up : 0);
  }

  latency(out, "brisk_queue_wait_seconds", "Submit-to-start latency of jobs.", h.queue_wait);
  latency(out, "brisk_run_time_seconds", "Run time of jobs.", h.run_time);
  return out.str();
}

}  // namespace brisk::detail

#include "brisk/profile_report.hpp"

#include <algorithm>
#include <cstdio>
#include <string_view>

namespace brisk::tools {

namespace {

using ull = unsigned long long;

double pct(double part, double whole) { return whole > 0 ? 100.0 * part / whole : 0; }

void print_latency_row(const char* name, const LatencySummary& l) {
  std::printf("  %-11s %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f   (%llu jobs)\n", name, l.p50_ns / 1e3, l.p90_ns / 1e3,
              l.p99_ns / 1e3, l.p999_ns / 1e3, l.max_ns / 1e3, l.mean_ns / 1e3, static_cast<ull>(l.count));
}

void print_header(const Profile& p, const Measurements& m) {
  std::printf("brisk profile: %s, %zu worker(s)", p.source.c_str(), p.workers.size());
  if (p.producers != 0) std::printf(", %u producer(s)", p.producers);
  std::printf(", %.3f s, %.0f jobs = %.0f jobs/s\n", p.wall_s, m.executed, p.wall_s > 0 ? m.executed / p.wall_s : 0);
  if (p.run) {
    const EngineConfig& c = p.run->config;
    std::printf("config: spin_polls %u, steal_batch %u, ring_capacity %zu, credits %lld, pin_workers %s\n",
                c.spin_polls, c.steal_batch, c.ring_capacity, static_cast<long long>(p.run->stats.credits_capacity),
                c.pin_workers ? "yes" : "no");
  }
}

void print_time(const Profile& p, const Measurements& m) {
  std::printf("\n== where time goes ==\n");
  std::printf("  per job, us     p50       p90       p99     p99.9       max      mean\n");
  print_latency_row("queue wait", p.queue_wait);
  print_latency_row("run time", p.run_time);
  std::printf("  a job spends %.1f%% of its submit-to-end time waiting in a queue\n",
              pct(p.queue_wait.mean_ns, p.queue_wait.mean_ns + p.run_time.mean_ns));
  double parked = 0;
  for (const WorkerRow& w : p.workers) parked += static_cast<double>(w.parked_ns);
  const double total = m.workers * p.wall_s * 1e9;
  std::printf("  worker time (%zu x %.3f s): busy %.1f%%, parked %.1f%%, searching/overhead %.1f%%\n",
              p.workers.size(), p.wall_s, 100 * m.busy_fraction, pct(parked, total),
              std::max(0.0, 100 - 100 * m.busy_fraction - pct(parked, total)));
}

void print_workers(const Profile& p) {
  std::printf("\n== workers ==\n");
  std::printf("  worker  cpu   executed  share    stolen  steals    parks  parks/s  busy%%  parked%%  other%%\n");
  std::uint64_t executed = 0;
  for (const WorkerRow& w : p.workers) executed += w.executed;
  const double span_ns = p.wall_s * 1e9;
  for (std::size_t i = 0; i < p.workers.size(); ++i) {
    const WorkerRow& w = p.workers[i];
    const double busy = pct(static_cast<double>(w.busy_ns), span_ns);
    const double parked = pct(static_cast<double>(w.parked_ns), span_ns);
    std::printf("  %6zu %4d %10llu %5.1f%% %9llu %7llu %8llu %8.0f %5.1f %8.1f %7.1f\n", i, w.cpu,
                static_cast<ull>(w.executed), pct(static_cast<double>(w.executed), static_cast<double>(executed)),
                static_cast<ull>(w.stolen), static_cast<ull>(w.steals), static_cast<ull>(w.parks),
                p.wall_s > 0 ? static_cast<double>(w.parks) / p.wall_s : 0, busy, parked,
                std::max(0.0, 100 - busy - parked));
  }
}

// Named task types from stats(); closures are whatever else the workers ran.
void print_task_types(const EngineStats& s) {
  std::printf("\n== task types ==\n");
  std::printf("  %-16s %10s %10s %8s %8s %8s %9s %8s\n", "type", "accepted", "succeeded", "failed", "retried",
              "dead", "cancelled", "limited");
  std::uint64_t attempts = 0;
  for (const TaskTypeStats& t : s.task_types) {
    std::printf("  %-16s %10llu %10llu %8llu %8llu %8llu %9llu %8llu\n", t.name.c_str(), static_cast<ull>(t.accepted),
                static_cast<ull>(t.succeeded), static_cast<ull>(t.failed_attempts), static_cast<ull>(t.retried),
                static_cast<ull>(t.dead_lettered), static_cast<ull>(t.cancelled), static_cast<ull>(t.rate_limited));
    attempts += t.succeeded + t.failed_attempts;
  }
  const std::uint64_t closures = s.executed > attempts ? s.executed - attempts : 0;
  std::printf("  %-16s %10s %10llu %8llu\n", "(closures)", "-", static_cast<ull>(closures - std::min(closures, s.failed)),
              static_cast<ull>(s.failed));
}

void print_lanes(const EngineStats& s) {
  std::printf("\n== priority lanes ==\n");
  std::uint64_t total = 0;
  for (const LaneStats& l : s.lanes) total += l.accepted;
  for (std::size_t i = 0; i < s.lanes.size(); ++i) {
    std::printf("  lane %zu: accepted %10llu (%5.1f%%), queued now %llu\n", i, static_cast<ull>(s.lanes[i].accepted),
                pct(static_cast<double>(s.lanes[i].accepted), static_cast<double>(total)),
                static_cast<ull>(s.lanes[i].queued));
  }
}

void print_stealing_and_shards(const Profile& p, const Measurements& m) {
  std::printf("\n== stealing and shard balance ==\n");
  std::printf("  stolen %.0f of %.0f jobs (%.1f%%) in %.0f steals (%.1f jobs per steal)\n",
              std::max(0.0, m.steal_fraction) * m.executed, m.executed, 100 * std::max(0.0, m.steal_fraction),
              m.jobs_per_steal > 0 ? std::max(0.0, m.steal_fraction) * m.executed / m.jobs_per_steal : 0,
              std::max(0.0, m.jobs_per_steal));
  std::printf("  jobs by shard pushed to (%s):", p.shard_share_exact ? "from the trace" : "estimated from own-shard jobs");
  for (std::size_t i = 0; i < p.shard_share.size(); ++i) std::printf(" %zu:%.1f%%", i, 100 * p.shard_share[i]);
  if (!p.shard_share.empty()) {
    std::printf("\n  busiest shard %d holds %.1f%% against a fair %.1f%% (x%.2f)\n", m.top_shard,
                100 * m.top_shard_share, 100 / m.workers, m.top_shard_share * m.workers);
  } else {
    std::printf(" none\n");
  }
}

void print_backpressure(const Profile& p, const Measurements& m) {
  const EngineStats& s = p.run->stats;
  std::uint64_t peak_depth = 0;
  std::int64_t peak_credits = 0;
  for (const StatsSample& x : p.run->samples) {
    peak_depth = std::max(peak_depth, x.queued);
    peak_credits = std::max(peak_credits, x.credits_outstanding);
  }
  std::printf("\n== backpressure ==\n");
  std::printf("  offered %llu, rejected full %llu, rejected backpressure %llu\n", static_cast<ull>(p.run->offered),
              static_cast<ull>(s.rejected_full), static_cast<ull>(s.rejected_backpressure));
  std::printf("  producers blocked %.1f ms (%.2f%% of producer time)\n", static_cast<double>(s.producer_blocked_ns) / 1e6,
              100 * std::max(0.0, m.producer_blocked_fraction));
  std::printf("  credits: capacity %lld, peak outstanding %lld; peak queue depth %llu (sampled every %.0f ms)\n",
              static_cast<long long>(s.credits_capacity), static_cast<long long>(peak_credits),
              static_cast<ull>(peak_depth),
              p.run->samples.size() > 1 ? 1e3 * (p.run->samples[1].t_s - p.run->samples[0].t_s) : 0.0);
}

void print_trace(const TraceAnalysis& t, const Profile& p) {
  std::printf("\n== trace ==\n");
  std::printf("  %llu events over %.3f s, %zu jobs with queue wait", static_cast<ull>(t.events),
              static_cast<double>(t.span_ns) / 1e9, t.queue_wait_ns.size());
  if (p.run) std::printf(", %llu events dropped", static_cast<ull>(p.run->stats.trace_dropped));
  std::printf("\n");
  if (!t.wake_wait_ns.empty()) {
    std::printf("  first job after a wake-up waited p50 %.2f us, p99 %.2f us (%zu wake-ups; all jobs p50 %.2f us)\n",
                static_cast<double>(sorted_percentile(t.wake_wait_ns, 50)) / 1e3,
                static_cast<double>(sorted_percentile(t.wake_wait_ns, 99)) / 1e3, t.wake_wait_ns.size(),
                static_cast<double>(sorted_percentile(t.queue_wait_ns, 50)) / 1e3);
  }
  if (!t.refused.empty()) {
    std::printf("  producers' refusals:");
    for (const auto& [reason, n] : t.refused) std::printf(" %llu %s", static_cast<ull>(n), reason.c_str());
    std::printf("\n");
  }
  if (t.log_batches > 0 || !t.fsync_ns.empty()) {
    std::printf("  log writer: %llu batches (%llu records, %llu bytes), %zu fdatasyncs p50 %.2f ms, p99 %.2f ms\n",
                static_cast<ull>(t.log_batches), static_cast<ull>(t.log_records), static_cast<ull>(t.log_bytes),
                t.fsync_ns.size(), static_cast<double>(sorted_percentile(t.fsync_ns, 50)) / 1e6,
                static_cast<double>(sorted_percentile(t.fsync_ns, 99)) / 1e6);
  }
}

// The snapshots' view: what the scheduler did to each worker, the task
// types' own limits, and the log's group commit.
void print_host_and_limits(const SnapshotWindow& w) {
  std::printf("\n== host, limits and log (from the engine's snapshots) ==\n");
  std::printf("  worker  runnable-not-running%%  involuntary switches/s\n");
  for (std::size_t i = 0; i < w.sched.size(); ++i) {
    if (!w.sched[i].known) {
      std::printf("  %6zu  (no /proc/self/task for this worker)\n", i);
      continue;
    }
    std::printf("  %6zu %22.1f %23.0f\n", i, pct(static_cast<double>(w.sched[i].runnable_wait_ns), w.wall_s * 1e9),
                w.wall_s > 0 ? static_cast<double>(w.sched[i].involuntary_switches) / w.wall_s : 0);
  }
  for (const TypeLimitRow& t : w.types) {
    if (t.max_concurrency == 0 && t.rate_per_second == 0) continue;
    std::printf("  type %s: max_concurrency %u, rate_per_second %.0f; %llu accepted, %llu deferred by the rate, "
                "%llu waiting for a slot\n",
                t.name.c_str(), t.max_concurrency, t.rate_per_second, static_cast<ull>(t.accepted),
                static_cast<ull>(t.rate_limited), static_cast<ull>(t.parked_at_limit));
  }
  if (w.has_log) {
    std::printf("  log: fsync %s, %llu batches, %llu fsyncs (p50 %.2f ms, p99 %.2f ms), records per batch p50 %llu "
                "p99 %llu, %.0f bytes per record\n",
                w.fsync_policy.c_str(), static_cast<ull>(w.stats.wal_batches), static_cast<ull>(w.stats.wal_syncs),
                static_cast<double>(w.wal_fsync_ns.p50_ns) / 1e6, static_cast<double>(w.wal_fsync_ns.p99_ns) / 1e6,
                static_cast<ull>(w.wal_batch_records.p50_ns), static_cast<ull>(w.wal_batch_records.p99_ns),
                w.stats.wal_records > 0 ? static_cast<double>(w.stats.wal_bytes) / static_cast<double>(w.stats.wal_records) : 0);
  }
}

void print_advice(const std::vector<Advice>& advice) {
  std::printf("\n== tuning advice ==\n");
  if (advice.empty()) std::printf("  none: no measurement crosses a rule's threshold (see docs/profiler.md)\n");
  for (const Advice& a : advice) {
    std::printf("  * [%s] %s\n", a.field.c_str(), a.text.c_str());
    if (!a.suggested.empty()) {
      std::printf("      %s: now %s, try %s; evidence: %s\n", a.field.c_str(), a.current.c_str(), a.suggested.c_str(),
                  a.evidence.c_str());
    }
  }
}

void json_string(std::ostream& out, std::string_view s) {
  out << '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') out << '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out << ' ';
    } else {
      out << c;
    }
  }
  out << '"';
}

void json_latency(std::ostream& out, const char* name, const LatencySummary& l) {
  out << "  \"" << name << "\": {\"count\": " << l.count << ", \"mean\": " << l.mean_ns << ", \"p50\": " << l.p50_ns
      << ", \"p90\": " << l.p90_ns << ", \"p99\": " << l.p99_ns << ", \"p999\": " << l.p999_ns
      << ", \"max\": " << l.max_ns << "},\n";
}

}  // namespace

void print_report(const Profile& p, const std::vector<Advice>& advice) {
  const Measurements m = measure(p);
  print_header(p, m);
  print_time(p, m);
  print_workers(p);
  if (p.run) {
    print_task_types(p.run->stats);
    print_lanes(p.run->stats);
  }
  print_stealing_and_shards(p, m);
  if (p.run) print_backpressure(p, m);
  if (p.trace) print_trace(*p.trace, p);
  if (p.window) print_host_and_limits(*p.window);
  print_advice(advice);
}

void write_report_json(std::ostream& out, const Profile& p, const Measurements& m, const std::vector<Advice>& advice) {
  out << "{\n  \"source\": ";
  json_string(out, p.source);
  out << ",\n  \"measurements\": {";
  const std::pair<const char*, double> fields[] = {
      {"wall_s", m.wall_s}, {"workers", m.workers}, {"executed", m.executed},
      {"queue_wait_p50_ns", m.queue_wait_p50_ns}, {"queue_wait_p99_ns", m.queue_wait_p99_ns},
      {"run_time_p50_ns", m.run_time_p50_ns}, {"run_time_mean_ns", m.run_time_mean_ns},
      {"busy_fraction", m.busy_fraction}, {"parks_per_worker_s", m.parks_per_worker_s},
      {"steal_fraction", m.steal_fraction}, {"jobs_per_steal", m.jobs_per_steal},
      {"top_shard_share", m.top_shard_share}, {"top_shard", m.top_shard}, {"offered", m.offered},
      {"rejected_full", m.rejected_full}, {"rejected_backpressure", m.rejected_backpressure},
      {"producer_blocked_fraction", m.producer_blocked_fraction}, {"trace_dropped", m.trace_dropped},
      {"spin_polls", m.spin_polls}, {"steal_batch", m.steal_batch}, {"ring_capacity", m.ring_capacity},
      {"credits", m.credits}, {"runnable_wait_fraction", m.runnable_wait_fraction},
      {"involuntary_per_worker_s", m.involuntary_per_worker_s}, {"wal_fsync_p99_ns", m.wal_fsync_p99_ns},
      {"wal_batch_records_p50", m.wal_batch_records_p50}};
  const char* sep = "\n";
  for (const auto& [name, value] : fields) {
    out << sep << "    \"" << name << "\": ";
    if (value < 0) {
      out << "null";  // not measured
    } else {
      out << value;
    }
    sep = ",\n";
  }
  out << "\n  },\n";
  json_latency(out, "queue_wait_ns", p.queue_wait);
  json_latency(out, "run_time_ns", p.run_time);
  out << "  \"workers\": [";
  sep = "\n";
  for (const WorkerRow& w : p.workers) {
    out << sep << "    {\"cpu\": " << w.cpu << ", \"executed\": " << w.executed << ", \"stolen\": " << w.stolen
        << ", \"steals\": " << w.steals << ", \"parks\": " << w.parks << ", \"busy_ns\": " << w.busy_ns
        << ", \"parked_ns\": " << w.parked_ns << "}";
    sep = ",\n";
  }
  out << "\n  ],\n  \"shard_share\": [";
  sep = "";
  for (const double s : p.shard_share) {
    out << sep << s;
    sep = ", ";
  }
  out << "],\n  \"shard_share_exact\": " << (p.shard_share_exact ? "true" : "false") << ",\n  \"advice\": [";
  sep = "\n";
  for (const Advice& a : advice) {
    out << sep << "    {\"field\": ";
    json_string(out, a.field);
    out << ", \"text\": ";
    json_string(out, a.text);
    for (const auto& [key, value] : {std::pair{"current", &a.current}, std::pair{"suggested", &a.suggested},
                                     std::pair{"evidence", &a.evidence}}) {
      out << ", \"" << key << "\": ";
      json_string(out, *value);
    }
    out << "}";
    sep = ",\n";
  }
  out << "\n  ]\n}\n";
}

}  // namespace brisk::tools

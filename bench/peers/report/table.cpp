// The human report: Markdown tables (pasteable into docs/perf.md) of medians
// with [min-max], brisk's ratio to each peer, and the targets.
#include <algorithm>
#include <cstdio>
#include <string>

#include "report/results.hpp"

namespace peers {

namespace {

std::string fmt(const char* format, double a, double b = 0, double c = 0) {
  char buf[96];
  std::snprintf(buf, sizeof buf, format, a, b, c);
  return buf;
}

std::string mega_cell(const Samples& s) {
  return fmt("%.2f [%.2f-%.2f]", s.median() / 1e6, s.min() / 1e6, s.max() / 1e6);
}

// A peer's column in a ratio table: not a brisk column (ratios compare
// each system with brisk on the same host).
bool is_brisk(const Results& r, std::size_t i) { return r.brisk_for(i) == i; }

void header(const Results& r, const char* first, bool skip_brisk) {
  std::printf("| %s |", first);
  for (std::size_t i = 0; i < r.systems.size(); ++i) {
    if (!skip_brisk || !is_brisk(r, i)) std::printf(" %.*s |", int(r.systems[i].size()), r.systems[i].data());
  }
  std::printf("\n|---|");
  for (std::size_t i = 0; i < r.systems.size(); ++i) {
    if (!skip_brisk || !is_brisk(r, i)) std::printf("---:|");
  }
  std::printf("\n");
}

void print_throughput(const Results& r) {
  std::printf("\n### Throughput, million tasks/s: median [min-max] of %d runs\n\n", r.meta.repetitions);
  header(r, "workload", false);
  for (const ThroughputResult& t : r.throughput) {
    std::printf("| %s |", t.spec.title.c_str());
    for (const Samples& s : t.per_system) std::printf(" %s |", mega_cell(s).c_str());
    std::printf("\n");
  }
  if (r.meta.busy != 0) {
    // What the busy threads got is the other half of a busy-host result: a
    // system that holds the CPUs runs faster at the host's expense.
    std::printf("\n### Busy threads beside each system: CPUs' worth of time they got, median of %d runs\n\n",
                r.meta.repetitions);
    header(r, "workload", false);
    for (const ThroughputResult& t : r.throughput) {
      std::printf("| %s |", t.spec.title.c_str());
      for (const Samples& s : t.host_cpus) {
        std::printf(" %s |", s.values.empty() ? "-" : fmt("%.2f", s.median()).c_str());
      }
      std::printf("\n");
    }
  }
  std::printf("\n### brisk / peer, ratio of medians (> 1: brisk is faster)\n\n");
  header(r, "workload", true);
  for (const ThroughputResult& t : r.throughput) {
    std::printf("| %s |", t.spec.title.c_str());
    for (std::size_t i = 0; i < t.per_system.size(); ++i) {
      if (is_brisk(r, i)) continue;
      std::printf(" %s |", fmt("%.2fx", t.per_system[r.brisk_for(i)].median() / t.per_system[i].median()).c_str());
    }
    std::printf("\n");
  }
}

void print_latency(const Results& r) {
  std::printf("\n### Submit-to-start latency, us: median of %d runs (sustained: runs that kept the schedule)\n\n",
              r.meta.repetitions);
  std::printf("| offered/s | system | p50 | p99 | p99.9 | max | achieved/s | sustained |\n");
  std::printf("|---:|---|---:|---:|---:|---:|---:|---|\n");
  for (const LatencyResult& l : r.latency) {
    for (std::size_t i = 0; i < r.systems.size(); ++i) {
      const auto& runs = l.per_system[i];
      int ok = 0;
      for (const LatencyRun& run : runs) ok += run.sustained ? 1 : 0;
      std::printf("| %.0f | %.*s | %.1f | %.1f | %.1f | %.0f | %.0f | %s %d/%zu |\n", l.rate, int(r.systems[i].size()),
                  r.systems[i].data(), LatencyResult::field(runs, &LatencyRun::p50_us).median(),
                  LatencyResult::field(runs, &LatencyRun::p99_us).median(),
                  LatencyResult::field(runs, &LatencyRun::p999_us).median(),
                  LatencyResult::field(runs, &LatencyRun::max_us).median(),
                  LatencyResult::field(runs, &LatencyRun::achieved).median(),
                  ok == int(runs.size()) ? "yes" : "NO, overloaded", ok, runs.size());
    }
  }
  std::printf("\n### peer p99 / brisk p99 (> 1: brisk starts tasks sooner)\n\n");
  header(r, "offered/s", true);
  for (const LatencyResult& l : r.latency) {
    std::printf("| %.0f |", l.rate);
    for (std::size_t i = 0; i < r.systems.size(); ++i) {
      if (is_brisk(r, i)) continue;
      const double brisk = LatencyResult::field(l.per_system[r.brisk_for(i)], &LatencyRun::p99_us).median();
      std::printf(" %.1fx |", LatencyResult::field(l.per_system[i], &LatencyRun::p99_us).median() / brisk);
    }
    std::printf("\n");
  }
}

// Issue 22: brisk on a quiet host, and on a busy one beside the best peer
// on the same busy host (latency at 100k tasks/s, empty-task throughput).
void print_host_targets(const Results& r) {
  for (const LatencyResult& l : r.latency) {
    if (l.rate != 100'000) continue;
    auto p = [&](std::size_t i, double LatencyRun::*f) { return LatencyResult::field(l.per_system[i], f).median(); };
    std::printf("- brisk quiet host at 100k tasks/s: p50 %.1f us (target <= 1: %s), p99 %.1f us (target <= 5: %s)\n",
                p(0, &LatencyRun::p50_us), p(0, &LatencyRun::p50_us) <= 1 ? "met" : "MISSED",
                p(0, &LatencyRun::p99_us), p(0, &LatencyRun::p99_us) <= 5 ? "met" : "MISSED");
    if (r.meta.busy == 0) continue;
    const std::size_t brisk = r.brisk_for(r.systems.size() - 1);
    double best50 = 1e300, best99 = 1e300;
    for (std::size_t i = 0; i < r.systems.size(); ++i) {
      if (r.busy[i] == 0 || i == brisk) continue;
      best50 = std::min(best50, p(i, &LatencyRun::p50_us));
      best99 = std::min(best99, p(i, &LatencyRun::p99_us));
    }
    if (best50 == 1e300) continue;
    std::printf("- brisk busy host at 100k tasks/s: p50 %.1f us vs best peer %.1f (%s), p99 %.1f us vs best peer %.1f (%s)\n",
                p(brisk, &LatencyRun::p50_us), best50, p(brisk, &LatencyRun::p50_us) <= best50 ? "met" : "MISSED",
                p(brisk, &LatencyRun::p99_us), best99, p(brisk, &LatencyRun::p99_us) <= best99 ? "met" : "MISSED");
  }
  if (r.meta.busy == 0) return;
  for (const ThroughputResult& t : r.throughput) {
    if (t.spec.id != "empty_1p") continue;
    const std::size_t brisk = r.brisk_for(r.systems.size() - 1);
    double best = 0;
    for (std::size_t i = 0; i < r.systems.size(); ++i) {
      if (r.busy[i] != 0 && i != brisk) best = std::max(best, t.per_system[i].median());
    }
    if (best == 0) continue;
    const double ratio = t.per_system[brisk].median() / best;
    std::printf("- brisk busy host, empty tasks 1 producer: %.2fx the best peer (target >= 2x: %s)\n", ratio,
                ratio >= 2 ? "met" : "MISSED");
  }
}

void print_targets(const Results& r) {
  std::printf("\n### Targets (issue 7; reported, not asserted)\n\n");
  auto ratio_to = [&](const std::string& id, std::string_view peer) {
    for (const ThroughputResult& t : r.throughput) {
      if (t.spec.id != id) continue;
      for (std::size_t i = 0; i < r.systems.size(); ++i) {
        if (r.systems[i] == peer) return t.per_system[0].median() / t.per_system[i].median();
      }
    }
    return 0.0;
  };
  // A ratio of 0: that workload or peer was not run (--only, --peers).
  auto print_ratio = [](std::string_view what, std::string_view peer, double ratio, double target) {
    if (ratio == 0) return;
    std::printf("- %.*s vs %.*s: %.2fx (target >= %.0fx: %s)\n", int(what.size()), what.data(), int(peer.size()),
                peer.data(), ratio, target, ratio >= target ? "met" : "MISSED");
  };
  for (std::string_view tbb : {"tbb-arena", "tbb-group"}) {
    print_ratio("empty tasks, 1 producer", tbb, ratio_to("empty_1p", tbb), 5);
    print_ratio("bulk submit", tbb, ratio_to("bulk", tbb), 10);
  }
  for (const LatencyResult& l : r.latency) {
    if (l.rate != 100'000) continue;
    const double p99 = LatencyResult::field(l.per_system[0], &LatencyRun::p99_us).median();
    const double p999 = LatencyResult::field(l.per_system[0], &LatencyRun::p999_us).median();
    std::printf("- brisk at 100k tasks/s: p99 %.1f us (target < 10: %s), p99.9 %.1f us (target < 50: %s)\n", p99,
                p99 < 10 ? "met" : "MISSED", p999, p999 < 50 ? "met" : "MISSED");
  }
  std::printf("- durable throughput vs Redis: measured by bench/durable (brisk_durable)\n");
  print_host_targets(r);
}

void print_scaling(const Results& r) {
  std::printf("\n### brisk cost as work grows (empty tasks, 1 producer): median [min-max] of %d runs\n\n",
              r.meta.repetitions);
  std::printf("| tasks | million tasks/s | ns/task |\n|---:|---:|---:|\n");
  for (const ScalingResult& s : r.scaling) {
    const Samples& t = s.tasks_per_s;
    std::printf("| %.0e | %s | %s |\n", double(s.tasks), mega_cell(t).c_str(),
                fmt("%.1f [%.1f-%.1f]", 1e9 / t.median(), 1e9 / t.max(), 1e9 / t.min()).c_str());
  }
}

void print_hardware(const Results& r) {
  if (r.ping_pong.round_trip_ns == 0) return;  // not measured (--only)
  const PingPong& p = r.ping_pong;
  const DiskLimits& d = r.disk;
  std::printf("\n### Hardware limits\n\n");
  std::printf("- cache-line ping-pong round trip between two cores: %.0f ns median [%.0f-%.0f]\n", p.round_trip_ns,
              p.min_ns, p.max_ns);
  std::printf("- fdatasync after a 4 KiB append (%s, %d appends): p50 %.0f us, p99 %.0f us, max %.0f us\n",
              d.fs.c_str(), d.appends, d.fdatasync_p50_us, d.fdatasync_p99_us, d.fdatasync_max_us);
  std::printf("- sequential write, %.0f MiB + fdatasync: %.0f MiB/s\n", d.write_mib, d.write_mib_per_s);
}

}  // namespace

void print_report(const Results& r) {
  const Meta& m = r.meta;
  std::printf("\n## brisk_peers %s: %s, %u CPUs, %u worker threads per system, %s, %s mode, %d repetitions\n",
              m.date.c_str(), m.cpu.c_str(), m.cpus, m.threads, m.kernel.c_str(), m.short_mode ? "short" : "full",
              m.repetitions);
  std::printf("\nbrisk's workers: %s. Busy host: %u busy threads of normal priority beside the systems named /busy%u.\n",
              m.pin_brisk < 0 ? "EngineConfig's default placement" : m.pin_brisk ? "pinned (--pin)" : "unpinned (--no-pin)",
              m.busy, m.busy);
  print_throughput(r);
  print_latency(r);
  print_targets(r);
  print_scaling(r);
  print_hardware(r);
}

}  // namespace peers

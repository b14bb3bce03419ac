// brisk_peers: brisk beside oneTBB, moodycamel, Boost.Asio and a mutex pool,
// the same workloads in one process run. Repetitions are interleaved across
// systems (rep 1 of every system, then rep 2, ...), so slow drift on a shared
// machine spreads over all systems instead of penalising whichever ran last.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <stdexcept>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "busy_host.hpp"
#include "hardware/hardware.hpp"
#include "machine.hpp"
#include "plan.hpp"
#include "report/results.hpp"
#include "spin_work.hpp"
#include "systems/system_entry.hpp"
#include "workloads/scaling.hpp"

namespace {

using namespace peers;

void progress(const char* what, const std::string& detail, int rep, int reps) {
  std::fprintf(stderr, "[%d/%d] %s %s\n", rep, reps, what, detail.c_str());
}

ThroughputResult measure(const Spec& spec, const std::vector<SystemEntry>& systems, const RunConfig& run, int reps) {
  ThroughputResult result{spec, std::vector<Samples>(systems.size()), std::vector<Samples>(systems.size())};
  for (int rep = 1; rep <= reps; ++rep) {
    progress("throughput", spec.title, rep, reps);
    for (std::size_t i = 0; i < systems.size(); ++i) {
      BusyHost host(systems[i].busy);
      result.per_system[i].values.push_back(systems[i].throughput(spec, run));
      if (systems[i].busy != 0) result.host_cpus[i].values.push_back(host.stop());
    }
  }
  return result;
}

LatencyResult measure(const LatencySpec& spec, const std::vector<SystemEntry>& systems, const RunConfig& run, int reps) {
  LatencyResult result{spec.rate, std::vector<std::vector<LatencyRun>>(systems.size())};
  for (int rep = 1; rep <= reps; ++rep) {
    progress("latency at", std::to_string(static_cast<long>(spec.rate)) + " tasks/s", rep, reps);
    for (std::size_t i = 0; i < systems.size(); ++i) {
      BusyHost host(systems[i].busy);
      result.per_system[i].push_back(systems[i].latency(spec, run));
    }
  }
  return result;
}

// brisk, then the named peers (all of them when none is named).
std::vector<SystemEntry> select_systems(const std::vector<std::string>& names) {
  std::vector<SystemEntry> all = all_systems();
  if (names.empty()) return all;
  std::vector<SystemEntry> chosen{all[0]};
  for (const std::string& name : names) {
    if (name == "none") continue;
    auto it = std::find_if(all.begin() + 1, all.end(), [&](const SystemEntry& s) { return s.name == name; });
    if (it == all.end()) throw std::invalid_argument("--peers: unknown peer '" + name + "'");
    chosen.push_back(*it);
  }
  return chosen;
}

// With --busy N: every system twice, on a quiet host and with N busy threads
// beside it, in one list, so repetitions interleave quiet and busy runs too.
std::vector<SystemEntry> with_busy_host(std::vector<SystemEntry> systems, unsigned busy) {
  if (busy == 0) return systems;
  static std::vector<std::string> names;  // the busy entries' names outlive every report
  names.reserve(systems.size());
  const std::size_t quiet = systems.size();
  for (std::size_t i = 0; i < quiet; ++i) {
    SystemEntry e = systems[i];
    names.push_back(std::string(e.name) + "/busy" + std::to_string(busy));
    e.name = names.back();
    e.busy = busy;
    systems.push_back(e);
  }
  return systems;
}

// The plan cut down to the measurements named by --only (all when empty).
Plan only_these(Plan plan, const std::vector<std::string>& only) {
  if (only.empty()) return plan;
  auto named = [&](const std::string& what) { return std::find(only.begin(), only.end(), what) != only.end(); };
  std::erase_if(plan.throughput, [&](const Spec& s) { return !named(s.id); });
  if (!named("latency")) plan.latency.clear();
  if (!named("scaling")) plan.scaling.clear();
  if (!named("hardware")) plan.ping_pong_runs = 0;
  return plan;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"brisk beside its peers: throughput, latency, scaling and hardware limits"};
  bool short_mode = false;
  int reps = 5;
  RunConfig run;
  run.threads = std::max(1u, std::thread::hardware_concurrency());
  bool no_pin = false, pin = false;
  unsigned busy = 0;
  std::string json_path, plot_dir, disk_dir = "/tmp";
  std::vector<std::string> peer_names, only;
  std::vector<double> rates;
  app.add_flag("--short", short_mode, "1 repetition, tiny sizes: only checks that everything runs");
  app.add_option("--reps", reps, "measured repetitions per workload (median reported)")->check(CLI::Range(1, 100));
  app.add_option("--threads", run.threads, "worker threads for every system")->check(CLI::Range(1u, 1024u));
  app.add_flag("--no-pin", no_pin, "do not pin brisk's workers (peers never pin)");
  app.add_flag("--pin", pin, "pin brisk's workers to every allowed CPU (default: EngineConfig's default)");
  app.add_option("--busy", busy,
                 "also run every system with this many busy threads (normal priority) beside it, interleaved "
                 "with the quiet runs (issue 22)")
      ->check(CLI::Range(0u, 64u));
  app.add_option("--peers", peer_names, "peers to run beside brisk (default: all; 'none': brisk alone, e.g. to profile)")
      ->delimiter(',');
  app.add_option("--only", only,
                 "measure only these: throughput ids (empty_1p, bulk, ...), 'latency', 'scaling', 'hardware'")
      ->delimiter(',');
  app.add_option("--rates", rates, "latency: only these offered rates (tasks/s; default 10000,100000,1000000)")
      ->delimiter(',');
  app.add_option("--json", json_path, "write every raw number to this JSON file");
  app.add_option("--plot-dir", plot_dir, "write gnuplot data files (.tsv) into this directory");
  app.add_option("--disk-dir", disk_dir, "where to measure fdatasync and write bandwidth");
  CLI11_PARSE(app, argc, argv);
  if (short_mode) reps = 1;
  run.pin_brisk = no_pin ? 0 : pin ? 1 : -1;

  try {
    Results results;
    results.meta = describe_machine();
    results.meta.threads = run.threads;
    results.meta.repetitions = reps;
    results.meta.short_mode = short_mode;
    results.meta.pin_brisk = run.pin_brisk;
    results.meta.busy = busy;
    const std::uint64_t spin_1us = spin_iterations_for(1'000), spin_10us = spin_iterations_for(10'000);
    results.meta.spin_1us_iters = static_cast<double>(spin_1us);
    results.meta.spin_10us_iters = static_cast<double>(spin_10us);
    Plan plan = only_these(make_plan(short_mode, spin_1us, spin_10us), only);
    if (!rates.empty()) {
      std::erase_if(plan.latency, [&](const LatencySpec& l) { return std::find(rates.begin(), rates.end(), l.rate) == rates.end(); });
    }
    const std::vector<SystemEntry> systems = with_busy_host(select_systems(peer_names), busy);
    for (const SystemEntry& s : systems) {
      results.systems.push_back(s.name);
      results.busy.push_back(s.busy);
    }

    if (plan.ping_pong_runs != 0) {
      std::fprintf(stderr, "hardware limits\n");
      results.ping_pong = cache_line_ping_pong(plan.ping_pong_trips, plan.ping_pong_runs);
      results.disk = disk_limits(disk_dir, plan.fdatasync_appends, plan.write_mib);
    }
    for (const Spec& spec : plan.throughput) results.throughput.push_back(measure(spec, systems, run, reps));
    for (const LatencySpec& spec : plan.latency) results.latency.push_back(measure(spec, systems, run, reps));
    for (std::uint64_t tasks : plan.scaling) {
      ScalingResult s{tasks, {}};
      for (int rep = 1; rep <= reps; ++rep) {
        progress("brisk scaling", std::to_string(tasks) + " tasks", rep, reps);
        s.tasks_per_s.values.push_back(systems[0].throughput(scaling_spec(tasks), run));
      }
      results.scaling.push_back(s);
    }

    print_report(results);
    if (!json_path.empty()) write_json(results, json_path);
    if (!plot_dir.empty()) {
      std::filesystem::create_directories(plot_dir);
      write_plot_data(results, plot_dir);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "brisk_peers: %s\n", e.what());
    return 1;
  }
  return 0;
}

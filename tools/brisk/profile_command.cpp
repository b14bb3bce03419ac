#include "brisk/profile_command.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "brisk/brisk.hpp"
#include "brisk/profile_attach.hpp"
#include "brisk/profile_compare.hpp"
#include "brisk/profile_model.hpp"
#include "brisk/profile_plots.hpp"
#include "brisk/profile_report.hpp"
#include "brisk/profile_workload.hpp"
#include "brisk/trace_analysis.hpp"
#include "brisk/tuning_advice.hpp"
#include "trace/chrome_trace.hpp"

namespace brisk::tools {

namespace {

// Width of a point of the trace-derived timeline: fine enough to show
// bursts, coarse enough that each point averages many jobs.
constexpr std::uint64_t kSeriesBucketNs = 10'000'000;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

void write_file(const std::string& path, const std::string& text) {
  const std::filesystem::path file(path);
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

TraceAnalysis analyze_json(const std::string& json) {
  const std::vector<trace::TraceEvent> events = trace::read_chrome_trace(json);
  return analyze_trace(events, kSeriesBucketNs);
}

// A live engine's window: the run record comes from its snapshots.
Profile collect_attached(const ProfileOptions& o) {
  WorkloadRun run = attach_run(o.attach, o.seconds, o.token, o.sample_ms);
  const SnapshotWindow w = snapshot_window(run.snapshot_before, run.snapshot_after);
  run.config = w.config;
  run.stats = w.stats;
  run.wall_s = w.wall_s;
  run.offered = w.stats.accepted + w.stats.rejected_full + w.stats.rejected_backpressure + w.stats.rejected_invalid;
  std::optional<TraceAnalysis> trace = analyze_json(run.trace_json);
  if (!o.trace_out.empty()) write_file(o.trace_out, run.trace_json);
  Profile p = profile_from_run(std::move(run), std::move(trace), 0);
  p.source = "attach " + o.attach;
  return p;
}

Profile collect(const ProfileOptions& o) {
  if (!o.attach.empty()) return collect_attached(o);
  if (!o.trace_in.empty()) return profile_from_trace(analyze_json(read_file(o.trace_in)), o.trace_in);
  WorkloadRun run = run_workload(o);
  std::optional<TraceAnalysis> trace;
  if (!run.trace_json.empty()) {
    trace = analyze_json(run.trace_json);
    if (!o.trace_out.empty()) write_file(o.trace_out, run.trace_json);
  }
  return profile_from_run(std::move(run), std::move(trace), o.producers);
}

void print_outputs(const Profile& p, const ProfileOptions& o) {
  std::printf("\n== outputs ==\n");
  if (!o.plots && o.json_out.empty() && !(p.run && p.trace && !o.trace_out.empty())) std::printf("  none\n");
  if (p.run && p.trace && !o.trace_out.empty()) {
    std::printf("  trace: %s (open in https://ui.perfetto.dev: one track per worker)\n", o.trace_out.c_str());
  }
  if (o.plots) {
    std::string note;
    for (const std::string& png : draw_plots(p, o.plot_dir, note)) std::printf("  plot:  %s\n", png.c_str());
    if (!note.empty()) std::printf("  plots: %s\n", note.c_str());
  }
  if (!o.json_out.empty()) std::printf("  json:  %s\n", o.json_out.c_str());
}

}  // namespace

CLI::App* add_profile_command(CLI::App& app, ProfileOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "profile", "run a workload with tracing (or read a trace) and report where time goes, with tuning advice");
  cmd->add_option("--workers", o.workers, "worker threads (0: one per CPU)");
  cmd->add_option("--producers", o.producers, "producer threads")->check(CLI::Range(1u, 256u));
  cmd->add_option("--tasks", o.tasks, "tasks to offer in all (0: run for --seconds)");
  cmd->add_option("--seconds", o.seconds, "how long producers offer work (without --tasks)")->check(CLI::Range(0.01, 86400.0));
  cmd->add_option("--rate", o.rate, "offered tasks/s over all producers (0: as fast as accepted)")->check(CLI::Range(0.0, 1e9));
  cmd->add_option("--work-us", o.work_us, "busy work per task, microseconds")->check(CLI::Range(0.0, 1e6));
  cmd->add_option("--named", o.named_fraction, "fraction of tasks submitted as named tasks")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--fail", o.fail_fraction, "fraction of tasks that fail")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--priority-mix", o.priority_mix, "lane weights high:normal:low, e.g. 10:80:10");
  cmd->add_option("--spin-polls", o.spin_polls, "EngineConfig::spin_polls");
  cmd->add_option("--steal-batch", o.steal_batch, "EngineConfig::steal_batch");
  cmd->add_option("--ring-capacity", o.ring_capacity, "EngineConfig::ring_capacity (power of two)");
  cmd->add_option("--credits", o.credits, "EngineConfig::credits (0: one per ring slot)");
  cmd->add_flag("!--no-pin", o.pin, "do not pin workers to CPUs");
  cmd->add_option("--trace-events", o.trace_events, "trace ring size per worker, events (0: no trace)");
  cmd->add_option("--sample-ms", o.sample_ms, "stats() sampling period for the plots")->check(CLI::Range(1u, 60'000u));
  cmd->add_option("--trace-in", o.trace_in, "analyse this recorded trace (Engine::write_trace JSON) instead of running")
      ->check(CLI::ExistingFile);
  cmd->add_option("--trace-out", o.trace_out, "write the run's Chrome/Perfetto trace here (empty: do not)");
  cmd->add_option("--plot-dir", o.plot_dir, "directory for the PNG plots");
  cmd->add_flag("!--no-plots", o.plots, "do not draw plots");
  cmd->add_option("--json", o.json_out, "write the report's numbers as JSON here");
  cmd->add_option("--attach", o.attach, "profile a live engine: its metrics server URL (debug_endpoints on)");
  cmd->add_option("--token", o.token, "bearer token for --attach (observability.debug_token)");
  cmd->add_option("--compare", o.compare, "compare two reports written by --json: A.json B.json")->expected(2);
  return cmd;
}

int run_profile(const ProfileOptions& o) {
  if (!o.compare.empty()) return run_compare(o.compare[0], o.compare[1]);
  try {
    const Profile profile = collect(o);
    const Measurements m = measure(profile);
    const std::vector<Advice> advice = tuning_advice(m);
    print_report(profile, advice);
    if (!o.json_out.empty()) {
      std::ostringstream json;
      write_report_json(json, profile, m, advice);
      write_file(o.json_out, std::move(json).str());
    }
    print_outputs(profile, o);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "brisk profile: invalid configuration: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "brisk profile: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace brisk::tools

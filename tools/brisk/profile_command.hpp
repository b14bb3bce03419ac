// `brisk profile`: runs a workload with tracing on (or reads a recorded
// trace) and reports where the time goes, with tuning advice, a Perfetto
// trace, PNG plots and optionally the numbers as JSON. See docs/profiler.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace brisk::tools {

struct ProfileOptions {
  // The workload (ignored with trace_in).
  unsigned workers = 0;  // 0: one per CPU
  unsigned producers = 2;
  std::uint64_t tasks = 0;  // 0: run for `seconds`
  double seconds = 3.0;
  double rate = 0;          // offered tasks/s over all producers; 0: as fast as accepted
  double work_us = 1.0;     // busy work per task
  double named_fraction = 0.25;  // share of tasks submitted as named tasks (the rest are closures)
  double fail_fraction = 0.0;    // share of tasks that fail (closures throw, named tasks go to the DLQ)
  std::string priority_mix = "10:80:10";  // weights of lanes high:normal:low
  // Engine knobs under study.
  unsigned spin_polls = 2000;
  unsigned steal_batch = 16;
  std::size_t ring_capacity = 4096;
  std::int64_t credits = 0;  // 0: engine default (every ring slot)
  bool pin = true;
  std::size_t trace_events = std::size_t{1} << 18;  // per worker; 0: no trace
  unsigned sample_ms = 50;                          // stats() sampling period for the plots
  // Inputs and outputs.
  std::string trace_in;
  std::string attach;  // a live engine's metrics server, e.g. http://127.0.0.1:9100
  std::string token;   // its observability.debug_token
  std::vector<std::string> compare;  // two reports (--json) to compare instead of profiling
  std::string trace_out = "build/profile/trace.json";
  std::string plot_dir = "build/profile";
  bool plots = true;
  std::string json_out;
};

CLI::App* add_profile_command(CLI::App& app, ProfileOptions& options);
int run_profile(const ProfileOptions& options);

}  // namespace brisk::tools

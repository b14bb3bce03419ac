// `brisk demo`: the default workload. Phase 1 measures throughput (producers
// posting empty tasks as fast as the engine takes them); phase 2 measures
// submit-to-start latency at a fixed offered rate, where queueing does not
// dominate.
#pragma once

#include <cstdint>

namespace CLI {
class App;
}

namespace brisk::tools {

struct DemoOptions {
  unsigned workers = 0;  // 0: one per CPU
  unsigned producers = 1;
  std::uint64_t tasks = 4'000'000;
  double rate = 100'000;    // tasks/s offered in the latency phase
  double seconds = 2.0;     // length of the latency phase
  bool pin = true;
  unsigned spin_polls = 2000;
};

CLI::App* add_demo_command(CLI::App& app, DemoOptions& options);
int run_demo(const DemoOptions& options);

}  // namespace brisk::tools

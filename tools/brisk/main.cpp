// brisk: the command-line tool. `brisk` alone runs the demo workload.
//   brisk demo      throughput and submit-to-start latency of the engine
//   brisk profile   run (or read) a traced workload: report, Perfetto trace, plots, tuning advice
//   brisk wal ...   inspect, verify or dump a write-ahead log
#include <CLI/CLI.hpp>

#include "brisk/demo_command.hpp"
#include "brisk/profile_command.hpp"
#include "brisk/wal_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"brisk: a lock-free in-memory task engine"};
  app.require_subcommand(0, 1);
  brisk::tools::DemoOptions demo;
  CLI::App* demo_cmd = brisk::tools::add_demo_command(app, demo);
  brisk::tools::ProfileOptions profile;
  CLI::App* profile_cmd = brisk::tools::add_profile_command(app, profile);
  brisk::tools::add_wal_commands(app);
  CLI11_PARSE(app, argc, argv);
  if (profile_cmd->parsed()) return brisk::tools::run_profile(profile);
  if (app.get_subcommands().empty() || demo_cmd->parsed()) return brisk::tools::run_demo(demo);
  return 0;
}

// brisk: the command-line tool. `brisk` alone runs the demo workload.
//   brisk demo      throughput and submit-to-start latency of the engine
//   brisk profile   run (or read) a traced workload: report, Perfetto trace, plots, tuning advice
//   brisk wal ...   inspect, verify or dump a write-ahead log
//   brisk serve     the task service: HTTP API, executors (docs/service.md)
//   brisk cluster   submit to, inspect and manage a brisk::cluster (docs/cluster.md)
#include <CLI/CLI.hpp>

#include "brisk/demo_command.hpp"
#include "brisk/profile_command.hpp"
#include "brisk/top_command.hpp"
#include "brisk/wal_command.hpp"
#ifdef BRISK_HAVE_SERVE
#include "brisk/serve/serve_command.hpp"
#endif
#ifdef BRISK_HAVE_CLUSTER
#include "brisk/cluster/cluster_command.hpp"
#endif

int main(int argc, char** argv) {
  CLI::App app{"brisk: a lock-free in-memory task engine"};
  app.require_subcommand(0, 1);
  brisk::tools::DemoOptions demo;
  CLI::App* demo_cmd = brisk::tools::add_demo_command(app, demo);
  brisk::tools::ProfileOptions profile;
  CLI::App* profile_cmd = brisk::tools::add_profile_command(app, profile);
  brisk::tools::TopOptions top;
  CLI::App* top_cmd = brisk::tools::add_top_command(app, top);
  brisk::tools::add_wal_commands(app);
#ifdef BRISK_HAVE_CLUSTER
  brisk::tools::add_cluster_commands(app);
#endif
#ifdef BRISK_HAVE_SERVE
  brisk::serve::ServeOptions serve;
  CLI::App* serve_cmd = brisk::serve::add_serve_command(app, serve);
#endif
  CLI11_PARSE(app, argc, argv);
#ifdef BRISK_HAVE_SERVE
  if (serve_cmd->parsed()) return brisk::serve::run_serve(serve);
#endif
  if (profile_cmd->parsed()) return brisk::tools::run_profile(profile);
  if (top_cmd->parsed()) return brisk::tools::run_top(top);
  if (app.get_subcommands().empty() || demo_cmd->parsed()) return brisk::tools::run_demo(demo);
  return 0;
}

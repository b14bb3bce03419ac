// brisk: the command-line tool. `brisk` alone runs the demo workload.
#include <CLI/CLI.hpp>

#include "brisk/demo_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"brisk: a lock-free in-memory task engine"};
  app.require_subcommand(0, 1);
  brisk::tools::DemoOptions demo;
  CLI::App* demo_cmd = brisk::tools::add_demo_command(app, demo);
  CLI11_PARSE(app, argc, argv);
  if (app.get_subcommands().empty() || demo_cmd->parsed()) return brisk::tools::run_demo(demo);
  return 0;
}

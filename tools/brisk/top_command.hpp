// `brisk top --attach URL`: a live view of an engine, refreshed every
// second from its /debug/brisk/snapshot (two snapshots a second apart make
// each frame's rates and percentiles: SnapshotWindow).
//   keys: t task types, w workers, s sort types by rate / by name, q quit
//   (Ctrl-C too; the terminal is restored either way).
//   --once: one frame as plain text, for scripts.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace brisk::tools {

struct TopOptions {
  std::string attach;
  std::string token;
  bool once = false;
};

CLI::App* add_top_command(CLI::App& app, TopOptions& options);
int run_top(const TopOptions& options);

}  // namespace brisk::tools

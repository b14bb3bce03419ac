// `brisk top --attach URL`: a live view of an engine, refreshed every
// second from its /debug/brisk/snapshot (two snapshots a second apart make
// each frame's rates and percentiles: SnapshotWindow).
//   keys: t task types, w workers, q quit (Ctrl-C too; the terminal is
//   restored either way); the types view sorts by n name, a accepted/s,
//   s succeeded/s (the default), f failed/s, l limited/s, o ok total (the
//   type's successes since the engine started); the header says which.
//   The workers view: jobs/s, busy% (running jobs), parked%, search+steal%
//   (the rest: awake and looking for work), steals/s and stolen jobs/s.
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

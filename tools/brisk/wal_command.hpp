// `brisk wal inspect|verify|dump --dir DIR`: operator commands for a
// write-ahead log directory. They only read; recovery itself (which cuts torn
// tails and writes a checkpoint) happens when the engine opens the log.
#pragma once

namespace CLI {
class App;
}

namespace brisk::tools {

// Adds the `wal` subcommand and its three children to `app`; each runs from
// its CLI11 callback and exits the process with its status.
void add_wal_commands(CLI::App& app);

}  // namespace brisk::tools

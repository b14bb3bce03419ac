// `brisk cluster submit|status|dlq ...`: operator commands against the NATS
// JetStream streams of brisk::cluster (docs/cluster.md). Any machine that can
// reach a NATS server runs them; nothing needs the worker processes.
#pragma once

namespace CLI {
class App;
}

namespace brisk::tools {

// Adds the `cluster` subcommand and its children to `app`; each runs from its
// CLI11 callback and exits the process with its status (0 done, 1 refused or
// not found, 2 cannot reach the cluster).
void add_cluster_commands(CLI::App& app);

}  // namespace brisk::tools

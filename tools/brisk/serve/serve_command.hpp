// `brisk serve --config FILE`: the task service (docs/service.md).
// Exit codes: 0 after a graceful shutdown (SIGTERM/SIGINT: new submissions
// answer 503, accepted due work drains, then the process exits), 1 when it
// cannot start (bind, log recovery) or the drain timed out, 2 for an invalid
// configuration (the message names the key).
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace brisk::serve {

struct ServeOptions {
  std::string config;
  bool check_only = false;  // --check: validate the configuration and exit
};

CLI::App* add_serve_command(CLI::App& app, ServeOptions& options);
int run_serve(const ServeOptions& options);

}  // namespace brisk::serve

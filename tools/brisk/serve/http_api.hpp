// The HTTP API v1 of `brisk serve` (docs/service.md, docs/service-openapi.yaml)
// on cpp-httplib, over the public brisk::Engine API only.
//
//   POST   /v1/tasks/{type}                 submit (202, 200 duplicate, 400, 404, 429, 503)
//   GET    /v1/tasks/{id}[?wait_ms=N]       state, attempts, last error, result
//   DELETE /v1/tasks/{id}                   cancel (200, 404, 409)           [admin]
//   POST   /v1/batch/{type}                 a JSON array of payloads
//   GET    /v1/dead-letters                 list                             [admin]
//   POST   /v1/dead-letters/{id}/replay     resubmit                         [admin]
//   DELETE /v1/dead-letters                 purge                            [admin]
//   GET    /metrics /healthz /readyz
//   GET    /ui                              the dashboard page (data via the API)
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include <brisk/engine.hpp>

#include "brisk/serve/serve_config.hpp"

namespace httplib {
class Server;
}

namespace brisk::serve {

class ServeApi {
 public:
  ServeApi(Engine& engine, const ServeConfig& config, std::map<std::string, TaskType> types);
  ~ServeApi();
  ServeApi(const ServeApi&) = delete;
  ServeApi& operator=(const ServeApi&) = delete;

  // Routes, limits, timeouts and the error handler.
  void install(httplib::Server& server);
  // From now on submissions answer 503 and /readyz says not ready.
  void begin_shutdown() noexcept { shutting_down_.store(true, std::memory_order_relaxed); }

  struct Counters;

 private:
  Engine& engine_;
  const ServeConfig& config_;
  std::map<std::string, TaskType> types_;
  std::atomic<bool> shutting_down_{false};
  std::unique_ptr<Counters> counters_;
};

}  // namespace brisk::serve

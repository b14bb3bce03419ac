// MetricsServer: an optional HTTP endpoint for scrapers and load balancers.
//   GET /metrics -> 200, Prometheus text (metrics callback)
//   GET /healthz -> 200 "ok", or 503 with one reason per line (health callback)
// With debug hooks, also the profiler's /debug/brisk/* (debug_endpoints.hpp).
// Built on cpp-httplib with one serving thread: scrapes are rare and small,
// and the engine's cores belong to its workers; two with debug hooks, so
// that a trace in progress neither holds up a scrape nor queues a second
// trace request (it is answered 409). Nothing runs until start().
// The callbacks run on the serving thread; an exception from one becomes a
// 500 with its message.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <optional>

#include "http/debug_endpoints.hpp"
#include "metrics/health.hpp"

namespace httplib {
class Server;
}

namespace brisk::http {

class MetricsServer {
 public:
  using MetricsFn = std::function<std::string()>;
  using HealthFn = std::function<metrics::HealthReport()>;

  MetricsServer(MetricsFn metrics, HealthFn health, std::optional<DebugHooks> debug = std::nullopt);
  ~MetricsServer();  // stop()s
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds host:port (port 0 picks a free one) and serves on a background
  // thread; returns the bound port. Throws std::runtime_error if the bind
  // fails or the server is already started.
  std::uint16_t start(const std::string& host, std::uint16_t port);
  // Stops serving and joins the thread. Idempotent.
  void stop();

  std::uint16_t port() const noexcept { return port_; }  // 0 when stopped

 private:
  MetricsFn metrics_;
  HealthFn health_;
  const std::optional<DebugHooks> debug_;
  std::atomic<bool> stopping_{false};  // set by stop(): ends a trace request early
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};  // set by thread_ when listening ends
  std::uint16_t port_ = 0;
};

}  // namespace brisk::http

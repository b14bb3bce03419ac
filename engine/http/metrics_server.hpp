// MetricsServer: an optional HTTP endpoint for scrapers and load balancers.
//   GET /metrics -> 200, Prometheus text (metrics callback)
//   GET /healthz -> 200 "ok", or 503 with one reason per line (health callback)
// Built on cpp-httplib with one serving thread: scrapes are rare and small,
// and the engine's cores belong to its workers. Nothing runs until start().
// The callbacks run on the serving thread; an exception from one becomes a
// 500 with its message.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "metrics/health.hpp"

namespace httplib {
class Server;
}

namespace brisk::http {

class MetricsServer {
 public:
  using MetricsFn = std::function<std::string()>;
  using HealthFn = std::function<metrics::HealthReport()>;

  MetricsServer(MetricsFn metrics, HealthFn health);
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
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};  // set by thread_ when listening ends
  std::uint16_t port_ = 0;
};

}  // namespace brisk::http

#include "http/metrics_server.hpp"

#include <httplib.h>
#include <sys/socket.h>

#include <exception>
#include <stdexcept>
#include <utility>

namespace brisk::http {
namespace {

// Answers with the callback's result, or 500 if it throws: a failing
// snapshot must not take the serving thread down.
template <class Fn>
void guarded(httplib::Response& res, Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    res.status = 500;
    res.set_content(std::string("error: ") + e.what() + "\n", "text/plain; charset=utf-8");
  }
}

}  // namespace

MetricsServer::MetricsServer(MetricsFn metrics, HealthFn health, std::optional<DebugHooks> debug)
    : metrics_(std::move(metrics)), health_(std::move(health)), debug_(std::move(debug)) {}

MetricsServer::~MetricsServer() { stop(); }

std::uint16_t MetricsServer::start(const std::string& host, std::uint16_t port) {
  if (server_) throw std::runtime_error("metrics server already started");
  auto server = std::make_unique<httplib::Server>();
  const std::size_t threads = debug_ ? 2 : 1;
  server->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // One thread serves everyone, so never let an idle keep-alive hold it.
  server->set_keep_alive_max_count(1);
  // httplib's default sets SO_REUSEPORT, which lets a second process bind a
  // port already in use and silently split the scrapes. SO_REUSEADDR alone
  // still allows a quick restart over TIME_WAIT, and a busy port fails.
  server->set_socket_options([](socket_t sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    guarded(res, [&] { res.set_content(metrics_(), "text/plain; version=0.0.4; charset=utf-8"); });
  });
  server->Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    guarded(res, [&] {
      const metrics::HealthReport report = health_();
      res.status = report.healthy() ? 200 : 503;
      res.set_content(report.text(), "text/plain; charset=utf-8");
    });
  });
  if (debug_) add_debug_endpoints(*server, *debug_, stopping_);
  stopping_.store(false, std::memory_order_relaxed);
  const int bound = port == 0 ? server->bind_to_any_port(host) : (server->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) throw std::runtime_error("metrics server cannot bind " + host + ":" + std::to_string(port));

  // httplib's stop() only acts on a running server, so wait until the
  // thread is listening (or has already given up) before returning: a
  // stop() right after start() must not be lost. listen_returned_ is only
  // a race-free flag (it publishes no other data), so relaxed suffices.
  listen_returned_.store(false, std::memory_order_relaxed);
  httplib::Server* s = server.get();
  thread_ = std::thread([this, s] {
    s->listen_after_bind();
    listen_returned_.store(true, std::memory_order_relaxed);
  });
  while (!s->is_running() && !listen_returned_.load(std::memory_order_relaxed)) std::this_thread::yield();
  if (!s->is_running()) {
    thread_.join();
    throw std::runtime_error("metrics server failed to listen on " + host);
  }
  server_ = std::move(server);
  port_ = static_cast<std::uint16_t>(bound);
  return port_;
}

void MetricsServer::stop() {
  if (!server_) return;
  // relaxed: only ends a trace request's wait (debug_endpoints.cpp).
  stopping_.store(true, std::memory_order_relaxed);
  server_->stop();
  thread_.join();
  server_.reset();
  port_ = 0;
}

}  // namespace brisk::http

// Talks to MetricsServer over loopback with a bare socket client, so the
// test depends on nothing but POSIX.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "http/metrics_server.hpp"
#include "support/prometheus_parser.hpp"

namespace brisk::http {
namespace {

struct Reply {
  int status = 0;
  std::string headers;
  std::string body;
};

Reply get(std::uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("connect");
  }
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::send(fd, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    throw std::runtime_error("send");
  }
  std::string raw;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) raw.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  Reply r;
  const auto split = raw.find("\r\n\r\n");
  if (raw.size() < 12 || split == std::string::npos) throw std::runtime_error("bad reply: " + raw);
  r.status = std::stoi(raw.substr(9, 3));
  r.headers = raw.substr(0, split);
  r.body = raw.substr(split + 4);
  return r;
}

TEST(MetricsServer, ServesMetricsAndHealthOnAFreePort) {
  std::atomic<bool> healthy{true};
  MetricsServer server([] { return std::string("# HELP up Up.\n# TYPE up gauge\nup 1\n"); },
                       [&] {
                         metrics::HealthReport r;
                         if (!healthy.load()) r.reasons = {"error rate 50.0% exceeds 5.0%", "1 of 4 workers dead"};
                         return r;
                       });
  const std::uint16_t port = server.start("127.0.0.1", 0);
  ASSERT_NE(port, 0);
  EXPECT_EQ(server.port(), port);

  const Reply m = get(port, "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.headers.find("text/plain; version=0.0.4"), std::string::npos) << m.headers;
  EXPECT_NO_THROW(test::parse_prometheus(m.body));

  const Reply ok = get(port, "/healthz");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "ok\n");
  healthy = false;
  const Reply bad = get(port, "/healthz");
  EXPECT_EQ(bad.status, 503);
  EXPECT_EQ(bad.body, "error rate 50.0% exceeds 5.0%\n1 of 4 workers dead\n");

  EXPECT_EQ(get(port, "/nope").status, 404);
  EXPECT_THROW(server.start("127.0.0.1", 0), std::runtime_error);
  server.stop();
  EXPECT_EQ(server.port(), 0);
  server.stop();  // idempotent
  EXPECT_THROW(get(port, "/metrics"), std::runtime_error);
}

TEST(MetricsServer, CallbackFailureIs500AndBusyPortThrows) {
  MetricsServer a([]() -> std::string { throw std::runtime_error("snapshot failed"); },
                  [] { return metrics::HealthReport{}; });
  const std::uint16_t port = a.start("127.0.0.1", 0);
  const Reply r = get(port, "/metrics");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("snapshot failed"), std::string::npos);

  MetricsServer b([] { return std::string(); }, [] { return metrics::HealthReport{}; });
  EXPECT_THROW(b.start("127.0.0.1", port), std::runtime_error);
}

TEST(MetricsServer, StopRightAfterStartAndRestart) {
  MetricsServer s([] { return std::string(); }, [] { return metrics::HealthReport{}; });
  for (int i = 0; i < 20; ++i) {
    s.start("127.0.0.1", 0);
    s.stop();
  }
  const std::uint16_t port = s.start("127.0.0.1", 0);
  EXPECT_EQ(get(port, "/healthz").status, 200);
}

}  // namespace
}  // namespace brisk::http

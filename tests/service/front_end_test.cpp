// The HTTP front end of `brisk serve` (tools/brisk/serve/http_server.cpp)
// from the outside, over raw sockets where a client library would hide what
// is checked: one event-loop thread serving many keep-alive connections at
// once, a client that trickles its request cut off while others are served,
// limits refused before the body is read, the connection cap. No timing
// asserts: every wait is generous and ends as soon as its condition holds.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "service/service_process.hpp"

namespace brisk::test {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// A service with one noop type, `server_extra` added to its [server] section.
struct FrontEnd {
  explicit FrontEnd(const std::string& server_extra) {
    write_file(tmp.path() / "serve.toml", "[server]\nlisten = \"127.0.0.1\"\nport = 0\n" + server_extra +
                                              "\n[types.bench]\nexecutor = \"noop\"\n");
    process = std::make_unique<ServeProcess>(tmp.path() / "serve.toml", tmp.path() / "serve.log");
  }
  TempDir tmp;
  std::unique_ptr<ServeProcess> process;
};

// A blocking loopback TCP connection.
class Socket {
 public:
  explicit Socket(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  bool connected() const { return connected_; }
  bool send(const std::string& bytes) {
    std::size_t at = 0;
    while (at < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      if (n <= 0) return false;
      at += static_cast<std::size_t>(n);
    }
    return true;
  }
  // True once the peer has closed (EOF or reset), waiting up to `timeout`.
  bool closed_by_peer(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char c;
    return ::recv(fd_, &c, 1, MSG_PEEK) <= 0;
  }

  struct Response {
    int status = 0;
    std::string head;
    std::string body;
  };
  // One response (status line, headers, a Content-Length body), or nullopt
  // if the connection ends or nothing arrives within `timeout`.
  std::optional<Response> read_response(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const auto end = pending_.find("\r\n\r\n");
      if (end != std::string::npos) {
        Response r;
        r.head = pending_.substr(0, end);
        if (r.head.rfind("HTTP/1.1 ", 0) != 0) return std::nullopt;
        r.status = std::stoi(r.head.substr(9, 3));
        std::size_t length = 0;
        const auto cl = lower(r.head).find("content-length:");
        if (cl != std::string::npos) length = std::stoul(r.head.substr(cl + 15));
        if (pending_.size() >= end + 4 + length) {
          r.body = pending_.substr(end + 4, length);
          pending_.erase(0, end + 4 + length);
          return r;
        }
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return std::nullopt;
      pending_.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  int fd_;
  bool connected_ = false;
  std::string pending_;
};

std::string post(const std::string& path, const std::string& body, const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// 200 keep-alive connections open at once on one event-loop thread, each
// sending three requests: every request is answered 202 with its own id, on
// its own connection, and the task is known to the service.
TEST(ServeFrontEnd, OneThreadServesManyKeepAliveConnectionsAtOnce) {
  constexpr int kConnections = 200, kRounds = 3;
  FrontEnd service("threads = 1\nkeep_alive_timeout_s = 120\nread_timeout_ms = 60000\n");
  const int port = service.process->port();
  std::vector<std::unique_ptr<Socket>> sockets;
  for (int i = 0; i < kConnections; ++i) {
    sockets.push_back(std::make_unique<Socket>(port));
    ASSERT_TRUE(sockets.back()->connected()) << "connection " << i;
  }
  std::set<std::string> ids;
  for (int round = 0; round < kRounds; ++round) {
    // Every connection has a request in flight before any answer is read.
    for (int i = 0; i < kConnections; ++i) {
      ASSERT_TRUE(sockets[i]->send(post("/v1/tasks/bench", "c" + std::to_string(i) + "r" + std::to_string(round))));
    }
    for (int i = 0; i < kConnections; ++i) {
      const auto r = sockets[i]->read_response();
      ASSERT_TRUE(r) << "connection " << i << ", round " << round << " got no answer";
      ASSERT_EQ(r->status, 202) << r->head << "\n" << r->body;
      const json j = json::parse(r->body, nullptr, false);
      ASSERT_TRUE(j.is_object() && j.contains("id")) << r->body;
      ids.insert(j["id"].get<std::string>());
    }
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kConnections * kRounds)) << "every submission has its own id";
  httplib::Client c = service.process->client();
  for (const std::string& id : {*ids.begin(), *ids.rbegin()}) {
    auto r = c.Get(("/v1/tasks/" + id + "?wait_ms=20000").c_str());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
  }
}

// A client that sends its request a byte at a time, steadily, is cut off
// once read_timeout_ms has passed since its first byte; on the one
// event-loop thread, other clients are answered meanwhile.
TEST(ServeFrontEnd, TricklingClientIsCutOffWhileOthersAreServed) {
  FrontEnd service("threads = 1\nread_timeout_ms = 1000\n");
  const int port = service.process->port();
  Socket slow(port);
  ASSERT_TRUE(slow.connected());
  // A long header, a byte every 50 ms: 100 s if it were let through.
  const std::string request = post("/v1/tasks/bench", "x", "X-Slow: " + std::string(2000, 's') + "\r\n");
  std::atomic<bool> cut_off{false};
  std::atomic<std::size_t> sent{0};
  std::thread trickle([&] {
    for (std::size_t i = 0; i < request.size() && !cut_off; ++i) {
      if (!slow.send(request.substr(i, 1))) break;
      sent = i + 1;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  httplib::Client c = service.process->client();
  int answered = 0;
  for (int i = 0; i < 5; ++i) {
    auto r = c.Post("/v1/tasks/bench", "fast", "text/plain");
    if (r && r->status == 202) ++answered;
  }
  EXPECT_EQ(answered, 5) << "clients were not served while one trickled";
  cut_off = slow.closed_by_peer(std::chrono::seconds(60));
  trickle.join();
  EXPECT_TRUE(cut_off) << "the trickling client was never disconnected";
  EXPECT_LT(sent.load(), request.size()) << "the whole request got through";
}

// Over max_body_bytes by its Content-Length: 413 without the body being sent
// (the service does not wait for it); over max_header_bytes: 431.
TEST(ServeFrontEnd, OversizedBodyAndHeadersAreRefusedBeforeTheBody) {
  FrontEnd service("max_body_bytes = 1024\nmax_header_bytes = 1024\n");
  const int port = service.process->port();
  {
    Socket s(port);
    ASSERT_TRUE(s.send("POST /v1/tasks/bench HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n"));
    const auto r = s.read_response();
    ASSERT_TRUE(r) << "no answer to a request whose body was never sent";
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(json::parse(r->body, nullptr, false).value("error", ""), "body_too_large");
  }
  {
    Socket s(port);
    ASSERT_TRUE(s.send(post("/v1/tasks/bench", "x", "X-Padding: " + std::string(2000, 'p') + "\r\n")));
    const auto r = s.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 431);
    EXPECT_EQ(json::parse(r->body, nullptr, false).value("error", ""), "headers_too_large");
  }
  {
    Socket s(port);  // within both limits, on the same service: still served
    ASSERT_TRUE(s.send(post("/v1/tasks/bench", std::string(1024, 'b'))));
    const auto r = s.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 202) << r->body;
  }
}

// server.max_connections: the connection beyond it is answered 503 and
// closed; once one closes, a new connection is served again.
TEST(ServeFrontEnd, ConnectionsBeyondTheCapAreRefused) {
  FrontEnd service("max_connections = 4\nkeep_alive_timeout_s = 120\n");
  const int port = service.process->port();
  std::vector<std::unique_ptr<Socket>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<Socket>(port));
    ASSERT_TRUE(held.back()->send(post("/v1/tasks/bench", "held")));
    const auto r = held.back()->read_response();  // accepted and served: it counts
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 202);
  }
  {
    Socket extra(port);
    ASSERT_TRUE(extra.connected());
    const auto r = extra.read_response();
    ASSERT_TRUE(r) << "the connection over the cap got no answer";
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(json::parse(r->body, nullptr, false).value("error", ""), "too_many_connections");
    EXPECT_TRUE(extra.closed_by_peer(std::chrono::seconds(60)));
  }
  held.pop_back();
  int status = 0;
  for (int i = 0; i < 600 && status != 202; ++i) {  // the service sees the close shortly
    Socket again(port);
    if (!again.send(post("/v1/tasks/bench", "again"))) continue;
    if (const auto r = again.read_response()) status = r->status;
    if (status != 202) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 202);
}

}  // namespace
}  // namespace brisk::test

// The HTTP front end of `brisk serve` (tools/brisk/serve/http_server.cpp)
// from the outside, over raw sockets where a client library would hide what
// is checked: one event-loop thread serving many keep-alive connections at
// once, a client that trickles its request cut off while others are served,
// limits refused before the body is read, the connection cap. No timing
// asserts: every wait is generous and ends as soon as its condition holds.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "service/raw_socket.hpp"
#include "service/service_process.hpp"

namespace brisk::test {
namespace {

using nlohmann::json;

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

// HEAD is answered as GET without the body (RFC 9110 9.3.2): the same
// status and Content-Length as GET, no body bytes (the next answer on the
// keep-alive connection starts right after the headers); HEAD where GET is
// not taken is 405 like GET.
TEST(ServeFrontEnd, HeadIsAnsweredAsGetWithoutTheBody) {
  FrontEnd service("");
  Socket s(service.process->port());
  ASSERT_TRUE(s.send(post("/v1/tasks/bench", "x")));
  const auto submitted = s.read_response();
  ASSERT_TRUE(submitted);
  ASSERT_EQ(submitted->status, 202) << submitted->body;
  const std::string id = json::parse(submitted->body)["id"].get<std::string>();
  auto request = [](const std::string& method, const std::string& path) {
    return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  };
  ASSERT_TRUE(s.send(request("GET", "/v1/tasks/" + id + "?wait_ms=20000")));  // finished: its answer is stable
  const auto done = s.read_response();
  ASSERT_TRUE(done);
  ASSERT_EQ(json::parse(done->body, nullptr, false).value("state", ""), "succeeded") << done->body;

  const std::vector<std::pair<std::string, int>> paths = {
      {"/healthz", 200}, {"/v1/tasks/" + id, 200}, {"/ui", 200}, {"/v1/tasks/1-1", 404}, {"/v1/batch/bench", 405}};
  for (const auto& [path, status] : paths) {
    ASSERT_TRUE(s.send(request("GET", path)));
    const auto get = s.read_response();
    ASSERT_TRUE(get) << path;
    EXPECT_EQ(get->status, status) << path << ": " << get->body;
    ASSERT_TRUE(s.send(request("HEAD", path)));
    const auto head = s.read_response(std::chrono::seconds(60), /*to_head=*/true);
    ASSERT_TRUE(head) << path;
    EXPECT_EQ(head->status, status) << path;
    ASSERT_TRUE(head->content_length) << path << ": " << head->head;
    EXPECT_EQ(*head->content_length, get->body.size()) << path;
    EXPECT_GT(*head->content_length, 0u) << path;
  }
  // Had any HEAD answer carried body bytes, this would not parse as the next answer.
  ASSERT_TRUE(s.send(request("GET", "/healthz")));
  const auto after = s.read_response();
  ASSERT_TRUE(after) << "the bytes after the last HEAD answer are not an HTTP answer";
  EXPECT_EQ(after->status, 200);
  EXPECT_EQ(after->body, "ok\n");
}

}  // namespace
}  // namespace brisk::test

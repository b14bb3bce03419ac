// The HTTP/1.1 front end of `brisk serve`: Boost.Beast on Boost.Asio, a few
// event-loop threads (server.threads) each serving thousands of keep-alive
// connections, so a connection costs a socket and a buffer, not a thread.
//
// Limits (docs/service.md, "Security"): a request's headers and body
// (431, 413: refused before the body is read), the time a whole request may
// take to arrive from its first byte (server.read_timeout_ms: a client that
// trickles its request is cut off, whatever its pace), idle keep-alive
// (keep_alive_timeout_s), requests per connection, the time to write an
// answer, and connections at once (server.max_connections: beyond it a new
// connection gets 503 and is closed).
//
// With a TLS context (server.tls_cert and tls_key, tls_context.hpp) every
// connection is HTTPS: its handshake must complete within read_timeout_ms
// of the connection, then it is served like a plain one.
//
// Answers come from ServeApi::handle(); a Deferred one (a durable 202, a
// long poll) is polled on the connection's own timer, never waited for.
#pragma once

#include <memory>
#include <string>

#include "brisk/serve/http_api.hpp"
#include "brisk/serve/serve_config.hpp"

namespace boost::asio::ssl {
class context;
}

namespace brisk::serve {

class HttpServer {
 public:
  // tls: null for plain HTTP.
  HttpServer(const ServeConfig& config, ServeApi& api, std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds server.listen:server.port (no SO_REUSEPORT: a second service on
  // the same port fails here). The port (the one given for port 0), or 0
  // with *error saying why.
  int bind(std::string* error);
  // Starts the event-loop threads: connections are accepted from now on.
  void start();
  // Stops accepting, closes every connection, joins the threads. Idempotent.
  void stop();

  struct Impl;  // http_server.cpp: the contexts, the acceptor, the threads

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace brisk::serve

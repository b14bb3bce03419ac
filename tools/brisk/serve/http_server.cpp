#include "brisk/serve/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

namespace brisk::serve {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using beast::error_code;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Bytes of the next request read ahead at once while a connection is idle.
constexpr std::size_t kReadAhead = 4096;
// After a refusal the rest of the request is read and dropped for this long
// (at most kLingerBytes) before the socket closes: closing with unread bytes
// would send a reset that can destroy the answer before the client reads it.
constexpr auto kLinger = std::chrono::seconds(1);
constexpr std::size_t kLingerBytes = 1u << 20;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoding ('+' is a space in a query, not in a path); an invalid escape stays as it is.
std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += plus_is_space && s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

HttpRequest to_request(http::request<http::string_body>&& m) {
  HttpRequest r;
  r.method = std::string(m.method_string());
  const std::string_view target(m.target().data(), m.target().size());
  const std::size_t q = target.find('?');
  r.path = percent_decode(target.substr(0, q), false);
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      const std::size_t amp = std::min(query.find('&'), query.size());
      const std::string_view pair = query.substr(0, amp);
      const std::size_t eq = pair.find('=');
      if (!pair.empty()) {
        r.query.emplace_back(percent_decode(pair.substr(0, eq), true),
                             eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true));
      }
      query.remove_prefix(std::min(amp + 1, query.size()));
    }
  }
  for (const auto& field : m) r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  r.body = std::move(m.body());
  return r;
}

}  // namespace

struct HttpServer::Impl {
  Impl(const ServeConfig& c, ServeApi& a, std::shared_ptr<asio::ssl::context> t)
      : config(c), api(a), tls(std::move(t)) {}
  void accept();
  void admit(tcp::socket socket);  // a connection, or a 503 over max_connections

  const ServeConfig& config;
  ServeApi& api;
  std::shared_ptr<asio::ssl::context> tls;  // null: plain HTTP
  // One io_context per thread, each connection on one of them: a
  // connection's handlers never run concurrently, without strands.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::size_t next_context = 0;
  std::atomic<std::size_t> connections{0};
  bool stopped = false;
};

namespace {

// One connection, over plain TCP (beast::tcp_stream) or TLS
// (beast::ssl_stream<beast::tcp_stream>): the same reads, limits and
// answers; TLS adds the handshake first, within read_timeout_ms.
template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  template <class... TlsContext>
  Connection(tcp::socket socket, HttpServer::Impl& server, TlsContext&... tls)
      : stream_(std::move(socket), tls...), timer_(stream_.get_executor()), server_(server), config_(server.config) {
    server_.connections.fetch_add(1, std::memory_order_relaxed);
  }
  ~Connection() { server_.connections.fetch_sub(1, std::memory_order_relaxed); }

  void start(bool over_capacity) {
    error_code ignored;
    lowest().socket().set_option(tcp::no_delay(true), ignored);  // small answers go out at once (no Nagle + delayed ACK)
    if constexpr (kTls) {
      // A client that connects and never finishes its handshake is cut off
      // like one that trickles its request.
      lowest().expires_after(config_.read_timeout);
      auto handshaken = [self = this->shared_from_this(), over_capacity](error_code ec) {
        if (ec) return self->close();
        self->begin(over_capacity);
      };
      stream_.async_handshake(asio::ssl::stream_base::server, std::move(handshaken));
    } else {
      begin(over_capacity);
    }
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void begin(bool over_capacity) {
    if (over_capacity) {
      return refuse(json_error(503, "too_many_connections",
                               "the service holds server.max_connections (" + std::to_string(config_.max_connections) +
                                   ") connections: retry later"));
    }
    wait_for_request();
  }

  // Idle: the next request's first bytes may take keep_alive_timeout_s.
  void wait_for_request() {
    if (buffer_.size() > 0) return read_request();
    lowest().expires_after(config_.keep_alive_timeout);
    stream_.async_read_some(buffer_.prepare(kReadAhead), [self = this->shared_from_this()](error_code ec, std::size_t n) {
      if (ec) return self->close();
      self->buffer_.commit(n);
      self->read_request();
    });
  }

  // The whole request, from its first byte, within read_timeout_ms: a client
  // that trickles it (Slowloris) is cut off however steadily it trickles.
  void read_request() {
    parser_.emplace();
    head_ = false;
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(config_.max_header_bytes, UINT32_MAX)));
    parser_->body_limit(config_.max_body_bytes);
    lowest().expires_after(config_.read_timeout);
    http::async_read_header(stream_, buffer_, *parser_, [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->read_failed(ec);
      // A client that asks before sending its body (curl does, over 1 KiB)
      // is told to go on; an oversized one was refused above (Content-Length).
      if (beast::iequals(self->parser_->get()[http::field::expect], "100-continue")) {
        static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        return asio::async_write(self->stream_, asio::buffer(kContinue), [self](error_code ec2, std::size_t) {
          if (ec2) return self->close();
          self->read_body();
        });
      }
      self->read_body();
    });
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->read_failed(ec);
      self->serve();
    });
  }

  void read_failed(error_code ec) {
    if (ec == http::error::header_limit) {
      return refuse(json_error(431, "headers_too_large",
                               "request headers are over server.max_header_bytes (" +
                                   std::to_string(config_.max_header_bytes) + ")"));
    }
    if (ec == http::error::body_limit) {
      return refuse(json_error(413, "body_too_large", "the request body is over server.max_body_bytes"));
    }
    if (ec.category() == error_code(http::error::bad_method).category() && ec != http::error::end_of_stream &&
      ec != http::error::partial_message) {
      return refuse(json_error(400, "bad_request", "the request is not valid HTTP/1.1"));
    }
    close();  // timed out, reset, or closed between requests
  }

  void serve() {
    lowest().expires_never();  // the API's answer, even a deferred one, is not the client's delay
    keep_alive_ = parser_->keep_alive() && ++served_ < config_.keep_alive_max_requests;
    head_ = parser_->get().method() == http::verb::head;
    Reply reply = server_.api.handle(to_request(parser_->release()));
    if (auto* ready = std::get_if<HttpResponse>(&reply)) return send(std::move(*ready));
    deferred_ = std::move(std::get<Deferred>(reply));
    interval_ = std::chrono::microseconds(100);
    poll();
  }

  // A deferred answer: asked at once, then after 0.1, 0.2, 0.4 ... ms (at
  // most its max_interval) until it is ready; the thread serves other
  // connections meanwhile.
  void poll() {
    if (std::optional<HttpResponse> ready = deferred_.poll()) {
      deferred_ = {};
      return send(std::move(*ready));
    }
    timer_.expires_after(interval_);
    interval_ = std::min(interval_ * 2, deferred_.max_interval);
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (!ec) self->poll();
    });
  }

  void send(HttpResponse r) {
    server_.api.count(r.status);
    response_ = {};
    response_.version(11);
    response_.result(static_cast<unsigned>(r.status));
    response_.set(http::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) response_.set(name, value);
    response_.body() = std::move(r.body);
    response_.keep_alive(keep_alive_ && !r.close);
    response_.prepare_payload();
    // HEAD (answered as GET by the API): the same headers, Content-Length
    // the GET body's, and no body (RFC 9110 9.3.2).
    if (head_) response_.body().clear();
    lowest().expires_after(config_.write_timeout);
    http::async_write(stream_, response_, [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->close();
      if (self->refused_) return self->linger();
      if (!self->response_.keep_alive()) return self->close();
      self->wait_for_request();
    });
  }

  // An answer the transport gives itself; the connection closes after it.
  void refuse(HttpResponse r) {
    refused_ = true;
    keep_alive_ = false;
    send(std::move(r));
  }

  void linger() {
    error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    lowest().expires_after(kLinger);
    drain();
  }

  void drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(kReadAhead), [self = this->shared_from_this()](error_code ec, std::size_t n) {
      self->lingered_ += n;
      if (ec || self->lingered_ > kLingerBytes) return self->close();
      self->drain();
    });
  }

  void close() {
    error_code ignored;
    timer_.cancel();
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close();
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  asio::steady_timer timer_;
  Deferred deferred_;
  std::chrono::microseconds interval_{100};
  HttpServer::Impl& server_;
  const ServeConfig& config_;
  std::size_t served_ = 0;
  std::size_t lingered_ = 0;
  bool keep_alive_ = false;
  bool refused_ = false;
  bool head_ = false;
};

}  // namespace

void HttpServer::Impl::admit(tcp::socket socket) {
  const bool over = connections.load(std::memory_order_relaxed) >= config.max_connections;
  if (tls) return std::make_shared<Connection<TlsStream>>(std::move(socket), *this, *tls)->start(over);
  std::make_shared<Connection<beast::tcp_stream>>(std::move(socket), *this)->start(over);
}

void HttpServer::Impl::accept() {
  asio::io_context& target = *contexts[next_context++ % contexts.size()];
  acceptor->async_accept(target, [this](error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;  // stopping
    if (!ec) {
      admit(std::move(socket));
      // Drain the backlog now (the acceptor is non-blocking): a burst of
      // connections waits for one turn of the loop, not one turn each.
      for (;;) {
        tcp::socket more(*contexts[next_context++ % contexts.size()]);
        if (acceptor->accept(more, ec)) break;
        admit(std::move(more));
      }
      return accept();
    }
    // Out of descriptors (EMFILE) or similar: try again shortly rather than spin.
    auto timer = std::make_shared<asio::steady_timer>(acceptor->get_executor(), std::chrono::milliseconds(50));
    timer->async_wait([this, timer](error_code) { accept(); });
  });
}

HttpServer::HttpServer(const ServeConfig& config, ServeApi& api, std::shared_ptr<boost::asio::ssl::context> tls)
    : impl_(std::make_unique<Impl>(config, api, std::move(tls))) {
  for (unsigned i = 0; i < std::max(1u, config.http_threads); ++i) {
    impl_->contexts.push_back(std::make_unique<asio::io_context>(1));
  }
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind(std::string* error) {
  Impl& s = *impl_;
  error_code ec;
  tcp::resolver resolver(*s.contexts[0]);
  const auto endpoints = resolver.resolve(s.config.listen, std::to_string(s.config.port), tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    *error = "cannot resolve " + s.config.listen + (ec ? ": " + ec.message() : std::string());
    return 0;
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  s.acceptor.emplace(*s.contexts[0]);
  // SO_REUSEADDR (restart while old connections linger in TIME_WAIT), never
  // SO_REUSEPORT: a second service on the same port must fail to bind.
  if (s.acceptor->open(endpoint.protocol(), ec) || s.acceptor->set_option(tcp::acceptor::reuse_address(true), ec) ||
      s.acceptor->bind(endpoint, ec) || s.acceptor->listen(asio::socket_base::max_listen_connections, ec) ||
      s.acceptor->non_blocking(true, ec)) {
    *error = "cannot listen on " + s.config.listen + ":" + std::to_string(s.config.port) + ": " + ec.message();
    s.acceptor.reset();
    return 0;
  }
  return s.acceptor->local_endpoint().port();
}

void HttpServer::start() {
  Impl& s = *impl_;
  s.accept();
  for (auto& context : s.contexts) {
    s.threads.emplace_back([&context] {
      auto guard = asio::make_work_guard(*context);
      context->run();
    });
  }
}

void HttpServer::stop() {
  Impl& s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  for (auto& context : s.contexts) context->stop();
  for (std::thread& t : s.threads) t.join();
  // With every thread gone, closing and destroying is race-free; destroying
  // a context destroys its pending handlers and with them the connections.
  s.acceptor.reset();
  s.contexts.clear();
}

}  // namespace brisk::serve

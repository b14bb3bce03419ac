// A request and an answer of the `brisk serve` API, free of any HTTP
// library: the API (http_api.cpp) routes and answers these, the front end
// (http_server.cpp, Boost.Beast) reads them off the socket and writes the
// answers back. Keeping them apart lets the API be tested and reused without
// the transport, and the transport change without touching the API.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace brisk::serve {

using HttpFields = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", "DELETE", ...; "HEAD" is answered as GET, sent without the body
  std::string path;    // percent-decoded, without the query
  HttpFields query;    // decoded, in order
  HttpFields headers;  // names as the client sent them
  std::string body;

  // The first header with this name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const noexcept;
  // The first query parameter with this name, or nullptr.
  const std::string* param(std::string_view name) const noexcept;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  HttpFields headers;  // besides Content-Type, Content-Length and Connection
  std::string body;
  bool close = false;  // close the connection after this answer
};

// An answer that is not ready yet: a durable 202 waiting for its group
// commit, a long poll (`?wait_ms=`). The front end calls poll() on its own
// thread from a timer (at once, then after intervals that double up to
// max_interval) until it returns the answer: no thread blocks on it.
struct Deferred {
  std::function<std::optional<HttpResponse>()> poll;
  std::chrono::microseconds max_interval{1000};
};

using Reply = std::variant<HttpResponse, Deferred>;

// "/v1/tasks/42" -> {"v1", "tasks", "42"}; nullopt for an empty segment
// ("/v1/tasks/", "//"), which no route has.
std::optional<std::vector<std::string>> path_segments(const std::string& path);

}  // namespace brisk::serve

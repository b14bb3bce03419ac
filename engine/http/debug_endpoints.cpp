#include "http/debug_endpoints.hpp"

#include <httplib.h>

#include <charconv>
#include <exception>
#include <thread>

#include "http/bearer_token.hpp"

namespace brisk::http {
namespace {

// Longest line write_chrome_trace emits for one event: every number at its
// widest (ts of 20 digits and 3 decimals, task id of 20, arg of 10, track
// 65535) and the longest name: 154 bytes, rounded up. A start event writes
// four lines: its derived submit, the flow arrow's "s", its "B" and the
// arrow's "f" (each flow line is shorter than the bound too).
constexpr std::size_t kLineBound = 160;
constexpr std::size_t kEventBound = 4 * kLineBound;
// Metadata (process and track names, two lines a track) and the brackets:
// room for 800 tracks.
constexpr std::size_t kFrameBound = std::size_t{256} << 10;
// A trace request waits in slices this long, so a stop() is seen quickly.
constexpr auto kWaitSlice = std::chrono::milliseconds(50);

void text(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body + "\n", "text/plain; charset=utf-8");
}

bool authorized(const httplib::Request& req, httplib::Response& res, const std::string& token) {
  if (token.empty()) return true;
  if (bearer_matches(req.get_header_value("Authorization"), token)) return true;
  res.set_header("WWW-Authenticate", "Bearer");
  text(res, 401, "unauthorized: this endpoint needs Authorization: Bearer <observability.debug_token>");
  return false;
}

// seconds=N, 1..max; absent: 5 (or max if lower). False after answering 400.
bool parse_seconds(const httplib::Request& req, httplib::Response& res, unsigned max, unsigned& seconds) {
  seconds = std::min(5u, max);
  if (!req.has_param("seconds")) return true;
  const std::string v = req.get_param_value("seconds");
  unsigned n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < 1 || n > max) {
    text(res, 400, "seconds must be a whole number in 1.." + std::to_string(max) + " (got '" + v + "')");
    return false;
  }
  seconds = n;
  return true;
}

void serve_trace(const httplib::Request& req, httplib::Response& res, const DebugHooks& hooks,
                 const std::atomic<bool>& stopping) {
  unsigned seconds = 0;
  if (!parse_seconds(req, res, hooks.max_seconds, seconds)) return;
  const std::size_t max_events = trace_events_within(hooks.max_bytes);
  const auto duration = std::chrono::seconds(seconds);
  switch (hooks.start_trace(TraceLimits{duration, max_events})) {
    case TraceStart::started: break;
    case TraceStart::already_tracing:
      return text(res, 409, "a trace is already running (another request, or tracing from start): try again later");
    case TraceStart::not_configured:
      return text(res, 409, "tracing is not configured: set observability.trace_events_per_worker > 0");
    case TraceStart::not_running:
      return text(res, 503, "the engine is not running");
  }
  const auto until = std::chrono::steady_clock::now() + duration;
  // relaxed: a flag that only ends the wait; it publishes nothing.
  while (std::chrono::steady_clock::now() < until && !stopping.load(std::memory_order_relaxed)) {
    std::this_thread::sleep_for(kWaitSlice);
  }
  hooks.stop_trace();
  std::size_t left_out = 0;
  std::string body = hooks.take_trace(max_events, &left_out);
  if (stopping.load(std::memory_order_relaxed)) return text(res, 503, "the server is stopping");
  res.set_header("X-Brisk-Trace-Left-Out", std::to_string(left_out));
  res.set_content(std::move(body), "application/json");
}

template <class Fn>
void guarded(httplib::Response& res, Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    text(res, 500, std::string("error: ") + e.what());
  }
}

}  // namespace

std::size_t trace_events_within(std::size_t bytes) noexcept {
  return bytes > kFrameBound ? (bytes - kFrameBound) / kEventBound : 0;
}

void add_debug_endpoints(httplib::Server& server, const DebugHooks& hooks, const std::atomic<bool>& stopping) {
  server.Get("/debug/brisk/snapshot", [&hooks](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res, hooks.token)) return;
    guarded(res, [&] { res.set_content(hooks.snapshot(), "application/json"); });
  });
  server.Get("/debug/brisk/trace", [&hooks, &stopping](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res, hooks.token)) return;
    guarded(res, [&] { serve_trace(req, res, hooks, stopping); });
  });
}

}  // namespace brisk::http

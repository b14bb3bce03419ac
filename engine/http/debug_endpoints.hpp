// The profiler's endpoints on the metrics server (off unless
// observability.debug_endpoints):
//   GET /debug/brisk/snapshot          -> 200, the engine's snapshot JSON
//   GET /debug/brisk/trace?seconds=N   -> 200, Chrome trace JSON of the next N
//                                         seconds (1..max_seconds, default 5)
// With a token, both need "Authorization: Bearer <token>": 401 otherwise.
// One trace at a time: a request while tracing is on (another request, or
// tracing from start) is answered 409 at once, never queued. A trace's
// answer is bounded in bytes (max_bytes): the earliest events that fit are
// kept and the header X-Brisk-Trace-Left-Out says how many were not. A
// malformed seconds is a 400 naming the bound. The server's stop ends a
// trace in progress early (503), so a shutdown never waits out a trace.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "brisk/trace_control.hpp"

namespace httplib {
class Server;
}

namespace brisk::http {

struct DebugHooks {
  std::function<std::string()> snapshot;
  std::function<TraceStart(const TraceLimits&)> start_trace;
  std::function<void()> stop_trace;
  // Drains the trace as JSON, at most max_events events; *left_out: how many were not written.
  std::function<std::string(std::size_t max_events, std::size_t* left_out)> take_trace;
  std::string token;  // empty: no token needed
  unsigned max_seconds = 60;
  std::size_t max_bytes = std::size_t{64} << 20;
};

// Registers the two routes. `stopping` is set by the server's owner before
// it stops the server: a trace in progress returns early.
void add_debug_endpoints(httplib::Server& server, const DebugHooks& hooks, const std::atomic<bool>& stopping);

// Events that fit in `bytes` of trace JSON, whatever their fields hold.
std::size_t trace_events_within(std::size_t bytes) noexcept;

}  // namespace brisk::http

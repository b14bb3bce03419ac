// Tracing a running engine: Engine::start_trace() switches the workers'
// trace rings on for a while, Engine::write_trace() drains what they caught.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace brisk {

enum class TraceStart : std::uint8_t {
  started,          // tracing is on until the limits below or stop_trace()
  already_tracing,  // another session (or tracing from start) is on: not queued
  not_configured,   // observability.trace_events_per_worker is 0: no rings to write into
  not_running,      // the engine is not started, or is shut down
};
std::string_view to_string(TraceStart s) noexcept;

struct TraceLimits {
  // Tracing switches itself off after this long (engine clock)...
  std::chrono::nanoseconds duration = std::chrono::seconds(5);
  // ...or after about this many events, whichever comes first (0: no event
  // bound). Both hold to within one batch of jobs per worker.
  std::uint64_t max_events = 0;
};

}  // namespace brisk

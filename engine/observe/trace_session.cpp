#include "observe/trace_session.hpp"

#include <algorithm>
#include <vector>

#include "trace/chrome_trace.hpp"

namespace brisk::detail {

TraceStart TraceSession::start(const TraceLimits& limits, std::int64_t now) {
  if (switch_.on()) return TraceStart::already_tracing;
  {
    // A new session starts with empty rings: what an earlier one left behind
    // (or a worker wrote as the switch went off) is not part of it.
    std::lock_guard lock(drain_mutex_);
    std::vector<trace::TraceEvent> stale;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      if (trace::TraceBuffer* t = workers_[i].trace()) t->drain(stale);
    }
    if (trace::SideTracks* side = switch_.side()) side->drain(stale);
  }
  const std::int64_t duration = std::max<std::int64_t>(limits.duration.count(), 0);
  const std::int64_t until = duration > INT64_MAX - now ? INT64_MAX : now + duration;
  return switch_.turn_on(until, limits.max_events) == trace::TraceSwitch::Turned::on ? TraceStart::started
                                                                                       : TraceStart::already_tracing;
}

std::size_t TraceSession::write(std::ostream& out, std::size_t max_events, std::size_t* left_out) {
  std::vector<trace::TraceEvent> events;
  trace::SideTracks::Dropped side_dropped;
  {
    std::lock_guard lock(drain_mutex_);
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      if (trace::TraceBuffer* t = workers_[i].trace()) t->drain(events);
    }
    if (trace::SideTracks* side = switch_.side()) side_dropped = side->drain(events);  // log writer, refusals
  }
  std::size_t dropped = 0;
  if (events.size() > max_events) {  // keep the earliest: the session's start
    std::stable_sort(events.begin(), events.end(),
                     [](const trace::TraceEvent& a, const trace::TraceEvent& b) { return a.ts_ns < b.ts_ns; });
    dropped = events.size() - max_events;
    events.resize(max_events);
  }
  if (left_out != nullptr) *left_out = dropped;
  trace::ChromeTraceOptions options;
  options.refusals_dropped = side_dropped.refusals;
  options.log_writer_dropped = side_dropped.log_writer;
  write_chrome_trace(out, events, options);
  return events.size();
}

}  // namespace brisk::detail

// TraceSession: a runtime trace's start and its one reader. Starting one
// empties the workers' rings and the side tracks (what an earlier session
// left is not part of it) and turns the switch on until a time or an event
// count; writing drains them all into Chrome trace JSON. The rings have one
// reader at a time: both hold the session's mutex while they drain.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <ostream>

#include "brisk/trace_control.hpp"
#include "trace/trace_switch.hpp"
#include "worker/worker_set.hpp"

namespace brisk::detail {

class TraceSession {
 public:
  TraceSession(const WorkerSet& workers, trace::TraceSwitch& trace_switch)
      : workers_(workers), switch_(trace_switch) {}

  // Starts a session now (engine time) within limits: started, or
  // already_tracing while one is on.
  TraceStart start(const TraceLimits& limits, std::int64_t now);
  // Drains every ring and writes Chrome trace JSON: at most max_events
  // events, the earliest (*left_out, when given, says how many were left
  // out). Returns the events written.
  std::size_t write(std::ostream& out, std::size_t max_events, std::size_t* left_out);

 private:
  const WorkerSet& workers_;
  trace::TraceSwitch& switch_;
  std::mutex drain_mutex_;  // the rings have one reader at a time
};

}  // namespace brisk::detail

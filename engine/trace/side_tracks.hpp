// SideTracks: the trace's tracks that belong to no worker. The log's writer
// thread records its batches and fdatasyncs into a TraceBuffer of its own
// (it is one thread, so the worker's single-producer ring fits); producers
// record refusals into a RefusalLog (any thread). The TraceSwitch owns them
// and allocates them the first time tracing is switched on, so an engine
// that never traces pays nothing for them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "trace/refusal_log.hpp"
#include "trace/trace_buffer.hpp"

namespace brisk::trace {

struct SideTracks {
  // Sized for a drain every few seconds: the writer records two events per
  // batch and two per fdatasync; refusals are one event per refused call.
  static constexpr std::size_t kLogWriterEvents = 16384;
  static constexpr std::size_t kRefusals = 4096;

  TraceBuffer log_writer{kLogWriter, kLogWriterEvents};
  RefusalLog refusals{kRefusals};

  // Events the rings had no room for, since the previous drain.
  struct Dropped {
    std::uint64_t log_writer = 0;
    std::uint64_t refusals = 0;
  };

  // The one reader (the engine's trace drain, under its mutex): both tracks'
  // events so far, and what was dropped since the previous drain (a session
  // starts with a drain, so a trace reports its own session's losses).
  Dropped drain(std::vector<TraceEvent>& out) {
    log_writer.drain(out);
    refusals.drain(out);
    const Dropped now{log_writer.dropped(), refusals.dropped()};
    const Dropped since{now.log_writer - reported_.log_writer, now.refusals - reported_.refusals};
    reported_ = now;
    return since;
  }

  // Since the tracks were made (EngineStats::trace_dropped).
  std::uint64_t dropped() const noexcept { return log_writer.dropped() + refusals.dropped(); }

 private:
  Dropped reported_;  // the reader's own
};

}  // namespace brisk::trace

// Chrome trace-event JSON (the format ui.perfetto.dev and chrome://tracing
// open) for TraceEvents, and a reader of the same JSON back into events.
//
// Written shape, one track (tid) per worker, named by "M" metadata events:
//   start -> "B" (begin of the task's run span, named "task"), end -> "E";
//   submit, steal, retry, park, unpark -> "i" instant events (thread scope).
// Side tracks (side_tracks.hpp): "log writer" (tid kLogWriter) has a slice
// "log batch" per group-commit write (args bytes, records) and "fdatasync"
// per sync (arg synced_lsn), each ended by an "E" named "log end";
// "producers" (tid kExternalWorker) has a "refused" instant per refused
// call (args reason, code: the SubmitStatus, submissions: how many).
// A start event carries its queue wait (TraceEvent::arg, written as the B
// event's "arg"); the writer also emits the task's submit instant derived
// from it, on the same track, so that a viewer shows a submit, a begin and
// an end per task, and a flow arrow ("s" at the submit, "f" bound to the run
// span, category "brisk.flow", name "queued") from the one to the other:
// Perfetto draws the task's time in its queue. The reader skips the derived
// submits and the arrows, so read(write(x)) gives x back;
// with_derived_submits() adds the submits again for analysis.
// Events from workers are merged in timestamp order; "ts" is microseconds
// since the earliest event, with the nanoseconds as three decimals, so the
// reader recovers each event's offset exactly.
#pragma once

#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trace/trace_buffer.hpp"

namespace brisk::trace {

struct ChromeTraceOptions {
  std::string process_name = "brisk";
  // Written as the trace's "otherData" (and the producers' track name says
  // the first): events the side tracks' rings had no room for.
  std::uint64_t refusals_dropped = 0;   // refused submissions not recorded
  std::uint64_t log_writer_dropped = 0;  // log writer events not recorded
};

// `events` with, just before each start event, its submit (ts_ns - arg,
// same task and worker).
std::vector<TraceEvent> with_derived_submits(std::span<const TraceEvent> events);

// A refusal's reason as written: its SubmitStatus's name ("rejected_full"...).
std::string_view refusal_reason(std::uint32_t code);

// Writes {"traceEvents":[...],"displayTimeUnit":"ns","otherData":{...}}.
void write_chrome_trace(std::ostream& out, std::span<const TraceEvent> events, const ChromeTraceOptions& options = {});

// Parses JSON written by write_chrome_trace: its "B", "E" and "i" events
// (side tracks' too) become TraceEvents (ts_ns relative to the trace's origin); metadata, the
// derived "submit" instants and the flow arrows are skipped. Throws std::runtime_error on JSON that is not such a trace.
std::vector<TraceEvent> read_chrome_trace(std::string_view json);

}  // namespace brisk::trace

// note_refusal: the call on the public submit paths (Engine, Producer) that
// puts a refused submission on the trace's "producers" track. It takes the
// answer and hands it back, so a hook is one line around the return.
//
// Refusals are every answer that did not take the task: rejected_full
// (rings, max_named_tasks or max_idempotency_keys at their limit),
// rejected_backpressure (no credits), rejected_shutdown, invalid and
// durability_failed. A duplicate is not one: its task was taken before.
// (A type's concurrency or rate limit never refuses: it holds the task back
// in the engine, which the workers' tracks and the snapshot show.)
//
// Cost while tracing is off: the switch's load and one predictable branch;
// no allocation and no lock either way (RefusalLog is lock-free).
#pragma once

#include <cstddef>
#include <cstdint>

#include "brisk/submit.hpp"
#include "trace/trace_switch.hpp"

namespace brisk::trace {

inline void record_refusal(TraceSwitch& tracing, SubmitStatus status, std::uint64_t count) noexcept {
  if (status == SubmitStatus::accepted || status == SubmitStatus::duplicate || count == 0) return;
  if (SideTracks* side = tracing.side()) side->refusals.record(static_cast<std::uint32_t>(status), count);
}

inline SubmitStatus note_refusal(TraceSwitch& tracing, SubmitStatus status) noexcept {
  if (tracing.on()) [[unlikely]] record_refusal(tracing, status, 1);
  return status;
}

inline SubmitResult note_refusal(TraceSwitch& tracing, SubmitResult result) noexcept {
  if (tracing.on()) [[unlikely]] record_refusal(tracing, result.status, 1);
  return result;
}

// A bulk post of `count`: the ones after the accepted prefix were refused.
inline BulkResult note_refusal(TraceSwitch& tracing, BulkResult result, std::size_t count) noexcept {
  if (tracing.on()) [[unlikely]] record_refusal(tracing, result.first_refusal, count - result.accepted);
  return result;
}

}  // namespace brisk::trace

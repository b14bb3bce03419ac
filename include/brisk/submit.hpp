// What every submission returns: an explicit answer, never a silent drop.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace brisk {

// Identifies a named task for cancel(), the dead-letter queue and the WAL.
// Never 0 for an accepted task.
using TaskId = std::uint64_t;

enum class SubmitStatus : std::uint8_t {
  accepted,               // queued; it will run (or be retried / dead-lettered)
  rejected_full,          // every ring that could take it is full: try again later
  rejected_backpressure,  // the producer has no credits left (HTTP 429)
  rejected_shutdown,      // the engine is shutting down or shut down
  invalid,                // bad input: see SubmitResult::reason
  duplicate,              // an idempotency key already accepted within retention
  durability_failed,      // the write-ahead log cannot take it (disk full, I/O error)
};

// A short, stable, human-readable name for a status ("accepted", ...).
std::string_view to_string(SubmitStatus status) noexcept;

struct SubmitResult {
  SubmitStatus status = SubmitStatus::invalid;
  // Set when accepted or duplicate. It names the task within this Engine
  // instance only: a recovered task gets a new id, and after a restart a new
  // task can get an id an earlier run gave out. Keep an idempotency key (or
  // your own id in the payload) for anything that outlives the process;
  // `brisk serve` adds its run to the ids it answers for this reason.
  TaskId id = 0;
  std::chrono::microseconds retry_after{0};  // a hint when rejected for capacity
  std::string_view reason;               // static text explaining 'invalid' etc.
  // Non-zero for a durable submission: its ticket in the write-ahead log.
  // Engine::is_durable / wait_durable say when it is on disk (per the fsync
  // policy).
  std::uint64_t durable_ticket = 0;

  bool accepted() const noexcept { return status == SubmitStatus::accepted; }
  explicit operator bool() const noexcept { return accepted(); }
};

// Result of a bulk submission: how many of the leading items were accepted,
// and why the first refused one was refused (accepted if none was).
struct BulkResult {
  std::size_t accepted = 0;
  SubmitStatus first_refusal = SubmitStatus::accepted;
};

}  // namespace brisk

// What became of a named task: Engine::status(id), Engine::wait(id, timeout)
// and Engine::on_finished(id, callback).
//
// A live task's state comes from its record; a finished one's from the
// engine's store of finished tasks, which remembers the last
// TaskStatusConfig::max_finished tasks for TaskStatusConfig::retention (the
// oldest go first, counted in EngineStats::finished_evicted). Past that the
// answer is `unknown`: never another task's state (a TaskId carries its
// record's generation) and never a guess.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "brisk/submit.hpp"

namespace brisk {

enum class TaskState : std::uint8_t {
  unknown,        // never accepted here, or finished and no longer remembered
  queued,         // in a ring, or parked on its type's concurrency limit
  delayed,        // waiting for its delay (or its turn at its type's rate)
  running,        // a handler is running it
  retry_waiting,  // an attempt failed; waiting out the backoff before the next
  succeeded,
  dead_lettered,  // failed for good (or attempts exhausted): in the dead-letter queue
  cancelled,
};
std::string_view to_string(TaskState state) noexcept;
// succeeded, dead_lettered or cancelled: it will not change any more.
constexpr bool is_final(TaskState s) noexcept {
  return s == TaskState::succeeded || s == TaskState::dead_lettered || s == TaskState::cancelled;
}

struct TaskInfo {
  TaskId id = 0;
  TaskState state = TaskState::unknown;
  std::uint32_t attempts = 0;  // attempts started so far
  std::string last_error;      // the last failed attempt's message (finished tasks and retries)
  // On the engine clock (EngineConfig::clock); 0 when not known (yet).
  std::int64_t accepted_ns = 0;
  std::int64_t started_ns = 0;   // the last attempt's start
  std::int64_t finished_ns = 0;
  // What the handler set with TaskContext::set_result (succeeded tasks).
  std::string result;
};

struct TaskStatusConfig {
  // Finished tasks remembered. Remembering costs a few stores and no lock
  // per finished task on the worker (a mutex only for one with an error or
  // a result): 15-18 ns, a quarter of an empty task's cost on a
  // worker-bound engine; none measurable in submit() throughput
  // (docs/perf.md). A
  // status() that follows N finished tasks indexes them first (about
  // 75 ns each). Memory: max_finished * (64 bytes + the task's error and
  // result): 4 MiB by default. 0: none, and no attempt's start time is
  // taken: status() answers a live task's state and attempts, and
  // `unknown` once it finished. on_finished() needs it.
  std::size_t max_finished = 65536;
  // How long a finished task is remembered at most.
  std::chrono::nanoseconds retention = std::chrono::hours(1);
  // Largest result a handler may set; a larger one fails the attempt
  // permanently ("result of N bytes is over task_status.max_result_bytes (M)").
  std::size_t max_result_bytes = 64u << 10;
};

}  // namespace brisk

// Executors: how `brisk serve` runs a task of a configured type.
//
//   command  runs a local program (argv, no shell) in its own process group,
//            the payload on its stdin. Exit 0: success, stdout is the result.
//            Exit 75 (EX_TEMPFAIL) or death by a signal: retry. Any other
//            exit: permanent failure, the tail of stderr is the error. Past the
//            type's time limit the whole process group is killed (SIGKILL)
//            and the attempt is retried.
//   webhook  POSTs the payload to the type's URL with Brisk-Task-Id,
//            Brisk-Task-Type, Brisk-Attempt and Idempotency-Key headers.
//            2xx: success, the body is the result. 408, 429, 5xx, a timeout
//            or a connection error: retry. Any other status: permanent.
//   noop     succeeds at once (benchmarks of the front end, smoke tests).
//
// Both run synchronously on the engine worker that runs the task (the public
// brisk API has no deferred outcome): a running attempt holds one worker
// thread (unpinned in brisk serve) until it ends or its time limit passes.
// The type's concurrency bounds how many workers one type can hold.
#pragma once

#include <brisk/task.hpp>

#include <cstddef>
#include <memory>

#include "brisk/serve/serve_config.hpp"

namespace brisk::serve {

class Executor {
 public:
  virtual ~Executor() = default;
  virtual Outcome run(TaskContext& task) = 0;
};

std::unique_ptr<Executor> make_command_executor(const TypeConfig& type, std::size_t max_result_bytes);
std::unique_ptr<Executor> make_webhook_executor(const TypeConfig& type, std::size_t max_result_bytes);
std::unique_ptr<Executor> make_executor(const TypeConfig& type, std::size_t max_result_bytes);

// Process-wide setup for the webhook executor (curl_global_init); call once
// before any thread starts.
void init_executors();

}  // namespace brisk::serve

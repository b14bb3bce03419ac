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
//            2xx: success, the body is the result. 429 or 503 with a
//            Retry-After (seconds or an HTTP date, at most an hour): retry
//            after that delay. 408, 429, 5xx, a timeout or a connection
//            error: retry with the type's backoff. Any other status: permanent.
//   noop     succeeds at once (benchmarks of the front end, smoke tests).
//
// A command runs on the engine worker that runs the task: an attempt holds
// one worker thread (unpinned in brisk serve) until it ends or its time
// limit passes. A webhook attempt defers its outcome and hands the call to
// the WebhookLoop's one thread: it holds no worker, only its type's
// concurrency slot, which bounds the calls in flight.
#pragma once

#include <brisk/task.hpp>

#include <chrono>
#include <cstddef>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "brisk/serve/serve_config.hpp"
#include "brisk/serve/task_ids.hpp"

namespace brisk::serve {

class Executor {
 public:
  virtual ~Executor() = default;
  virtual Outcome run(TaskContext& task) = 0;
};

// `ids`: the task id the owner's code is given (BRISK_TASK_ID, the
// Brisk-Task-Id header) is the one the caller got, run included.
std::unique_ptr<Executor> make_command_executor(const TypeConfig& type, std::size_t max_result_bytes, TaskIds ids);
class WebhookLoop;
std::unique_ptr<Executor> make_webhook_executor(const TypeConfig& type, std::size_t max_result_bytes,
                                                WebhookLoop& loop, TaskIds ids);
std::unique_ptr<Executor> make_executor(const TypeConfig& type, std::size_t max_result_bytes, WebhookLoop& webhooks,
                                        TaskIds ids);

// A Retry-After header's delay (delay-seconds or an HTTP-date, against
// `now`), at most an hour; nullopt if it says neither.
std::optional<std::chrono::nanoseconds> parse_retry_after(const std::string& value, std::time_t now);

// Process-wide setup for the webhook executor (curl_global_init); call once
// before any thread starts.
void init_executors();

}  // namespace brisk::serve

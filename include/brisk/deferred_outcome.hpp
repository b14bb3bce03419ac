// DeferredOutcome: a named task's outcome, taken away by its handler.
//
// A handler that waits on I/O (an HTTP call, a reply from another service)
// need not hold its worker thread while it waits:
//
//   engine.register_task("notify", [&](brisk::TaskContext& task) {
//     http.post_async(url, task.payload(), [done = task.defer()](int status) mutable {
//       if (status < 300) done.succeed();
//       else if (status == 429) done.retry_after(std::chrono::seconds(30), "429");
//       else done.fail("HTTP " + std::to_string(status));
//     });
//     return brisk::Outcome::success();  // ignored: `done` decides
//   }, options);
//
// After defer() the worker is free and the task stays `running` (status)
// until the handle is completed, from any thread: it keeps its type's
// concurrency slot meanwhile, and its hard time limit (TaskTypeOptions::
// hard_timeout, counted from the attempt's start) still applies: past it the
// attempt fails as timed out and a completion that comes later is ignored
// (it returns false and counts as a late result). A completion is final
// exactly as a returned Outcome would be: a durable task's success is logged,
// so a restart does not run it again; a crash before the completion runs it
// again (execution is at-least-once). A handle destroyed without completion
// completes as a retryable failure, so no task is lost to a forgotten handle.
//
// What the handler itself returns or throws after defer() is ignored.
// Engine::drain() and shutdown() wait for deferred tasks as they wait for
// running ones: complete (or drop) every handle, or give the type a hard
// limit, before shutting down.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace brisk {

class Outcome;

namespace detail {
// Where a handle reports to: the engine's outcome machine.
class DeferredSink {
 public:
  virtual bool complete_deferred(void* record, void* context, std::uint64_t tag, std::uint32_t type,
                                 Outcome&& outcome, std::string&& result) noexcept = 0;

 protected:
  ~DeferredSink() = default;
};
}  // namespace detail

class DeferredOutcome {
 public:
  DeferredOutcome() noexcept = default;  // holds no task
  DeferredOutcome(DeferredOutcome&& other) noexcept { take(other); }
  // A handle that still held a task completes it as a retryable failure first.
  DeferredOutcome& operator=(DeferredOutcome&& other) noexcept;
  DeferredOutcome(const DeferredOutcome&) = delete;
  DeferredOutcome& operator=(const DeferredOutcome&) = delete;
  ~DeferredOutcome();

  // True until one of the completions below was called (or it was moved from).
  bool pending() const noexcept { return sink_ != nullptr; }
  explicit operator bool() const noexcept { return pending(); }

  // Each returns true if the task took this outcome, false if its attempt
  // had already ended (past its hard limit) or the handle held no task. The
  // handle holds no task afterwards, either way.
  bool succeed(std::string_view result = {});
  bool retry(std::string message);
  bool fail(std::string message);
  // A retry after `delay` (an HTTP Retry-After, say) instead of the type's
  // backoff; attempts are still bounded by its RetryPolicy::max_attempts.
  bool retry_after(std::chrono::nanoseconds delay, std::string message);
  // Any Outcome; `result` is kept only with a success (TaskContext::set_result).
  bool complete(Outcome outcome, std::string_view result = {});

  // For the engine (TaskContext::defer); a handler never calls it.
  DeferredOutcome(detail::DeferredSink& sink, void* record, void* context, std::uint64_t tag,
                  std::uint32_t type) noexcept
      : sink_(&sink), record_(record), context_(context), tag_(tag), type_(type) {}

 private:
  void take(DeferredOutcome& other) noexcept {
    sink_ = other.sink_;
    record_ = other.record_;
    context_ = other.context_;
    tag_ = other.tag_;
    type_ = other.type_;
    other.sink_ = nullptr;
  }

  detail::DeferredSink* sink_ = nullptr;
  void* record_ = nullptr;
  void* context_ = nullptr;  // the handler's context, written only while the handler runs
  std::uint64_t tag_ = 0;    // the record's state word while deferred: which task and attempt
  std::uint32_t type_ = 0;
};

}  // namespace brisk

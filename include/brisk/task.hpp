// Named tasks: a handler registered under a name, plus a byte payload.
//
// This is the serialisable form of work: the write-ahead log persists it, the
// timer wheel delays and retries it, flow control prioritises and meters it.
// Options are plain structs with defaults, so new fields never break callers
// (use designated initializers: TaskOptions{.priority = priority::high}).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "brisk/deferred_outcome.hpp"
#include "brisk/submit.hpp"
#include "brisk/workflow.hpp"

namespace brisk {

// Priority lane: 0 is the highest. The engine has EngineConfig::priority_lanes
// lanes (3 by default: high, normal, low).
using Priority = std::uint8_t;
namespace priority {
inline constexpr Priority high = 0;
inline constexpr Priority normal = 1;
inline constexpr Priority low = 2;
}  // namespace priority

enum class Durability : std::uint8_t {
  engine_default,  // whatever EngineConfig says
  memory,          // never logged: lost if the process dies
  durable,         // logged to the WAL before it is acknowledged as durable
};

// Per-submission options.
struct TaskOptions {
  Priority priority = priority::normal;
  // Run no earlier than now + delay (0: as soon as possible).
  std::chrono::nanoseconds delay{0};
  // Run no earlier than this time on the engine clock (overrides delay).
  std::optional<std::int64_t> run_at_ns;
  // Non-empty: a second submission with the same key within the retention
  // window returns SubmitStatus::duplicate and does not run again.
  std::string idempotency_key;
  Durability durability = Durability::engine_default;
  // Joins an open batch (Engine::open_batch; workflow.hpp). 0: none.
  BatchId batch = 0;
};

// Exponential backoff with full jitter: the delay before attempt n+1 is
// uniform in [0, min(cap, base * 2^(n-1))].
struct RetryPolicy {
  std::uint32_t max_attempts = 3;  // 1 means "never retry"
  std::chrono::milliseconds base{100};
  std::chrono::milliseconds cap{30'000};
  bool jitter = true;
};

// Per-task-type options, fixed at registration.
struct TaskTypeOptions {
  std::uint32_t max_concurrency = 0;  // 0: unlimited
  double rate_per_second = 0;         // token bucket; 0: unlimited
  double burst = 0;                   // tasks that may start back to back; 0: 1
  RetryPolicy retry{};
  bool exceptions_are_permanent = false;  // a throw goes straight to the DLQ
  std::chrono::nanoseconds soft_timeout{0};  // 0: none
  std::chrono::nanoseconds hard_timeout{0};  // 0: none
};

// What a handler reports.
class Outcome {
 public:
  enum class Kind : std::uint8_t { success, retry, fail };

  static Outcome success() { return Outcome(Kind::success, {}); }
  // Retryable failure: scheduled again with backoff until max_attempts.
  static Outcome retry(std::string message) { return Outcome(Kind::retry, std::move(message)); }
  // Retryable failure whose next attempt comes after `delay` (an HTTP
  // Retry-After, say) instead of the type's backoff; still at most
  // max_attempts attempts. A negative delay counts as 0.
  static Outcome retry_after(std::chrono::nanoseconds delay, std::string message) {
    Outcome o(Kind::retry, std::move(message));
    o.retry_after_ns_ = delay.count() > 0 ? delay.count() : 0;
    return o;
  }
  // Permanent failure: straight to the dead-letter queue, no retry.
  static Outcome fail(std::string message) { return Outcome(Kind::fail, std::move(message)); }

  Kind kind() const noexcept { return kind_; }
  const std::string& message() const noexcept { return message_; }
  // The delay retry_after() asked for, or -1: the type's backoff.
  std::int64_t retry_after_ns() const noexcept { return retry_after_ns_; }

 private:
  Outcome(Kind kind, std::string message) : kind_(kind), message_(std::move(message)) {}
  Kind kind_;
  std::int64_t retry_after_ns_ = -1;
  std::string message_;
};

// What a handler sees of its task.
class TaskContext {
 public:
  virtual TaskId id() const noexcept = 0;
  virtual std::string_view name() const noexcept = 0;
  virtual std::string_view payload() const noexcept = 0;
  virtual std::uint32_t attempt() const noexcept = 0;  // 1 on the first run
  // The key the task was submitted with (empty: none). Keys deduplicate
  // submissions; execution is at-least-once (a crash after the handler ran
  // but before its completion was logged runs it again), so a handler with
  // side effects passes this key on to make them idempotent too (for
  // example as the payment provider's own idempotency key).
  virtual std::string_view idempotency_key() const noexcept = 0;
  // The task's result, kept with its finished state when it succeeds
  // (Engine::status / wait / on_finished). Larger than
  // TaskStatusConfig::max_result_bytes: the attempt fails for good, with a
  // message that says so (never truncated).
  virtual void set_result(std::string_view bytes) = 0;
  // The batch this task belongs to (0: none): a task adds to its own batch
  // with TaskOptions{.batch = task.batch_id()}.
  virtual BatchId batch_id() const noexcept = 0;
  // Soft deadline on the engine clock (0: none) and whether it has passed.
  virtual std::int64_t soft_deadline_ns() const noexcept = 0;
  virtual bool past_soft_deadline() const noexcept = 0;
  // Set when the task is cancelled or its hard limit passed: poll it and stop.
  virtual bool cancellation_requested() const noexcept = 0;
  // Takes the outcome away from the handler (deferred_outcome.hpp): the
  // handler returns at once, freeing its worker, and the handle completes
  // the task later from any thread. At most once per attempt (a second call
  // throws std::logic_error).
  virtual DeferredOutcome defer() = 0;

 protected:
  ~TaskContext() = default;
};

using Handler = std::function<Outcome(TaskContext&)>;

// A registered task type; submitting through it skips the name lookup.
class TaskType {
 public:
  TaskType() = default;
  std::uint32_t index() const noexcept { return index_; }
  bool valid() const noexcept { return index_ != kInvalid; }

 private:
  friend class Engine;
  static constexpr std::uint32_t kInvalid = 0xffffffffu;
  explicit TaskType(std::uint32_t index) : index_(index) {}
  std::uint32_t index_ = kInvalid;
};

}  // namespace brisk

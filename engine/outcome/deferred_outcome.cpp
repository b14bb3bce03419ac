// DeferredOutcome's completions (include/brisk/deferred_outcome.hpp): each
// hands its Outcome to the engine's outcome machine once, then holds nothing.
#include "brisk/deferred_outcome.hpp"

#include <utility>

#include "brisk/task.hpp"

namespace brisk {

DeferredOutcome& DeferredOutcome::operator=(DeferredOutcome&& other) noexcept {
  if (this != &other) {
    if (pending()) retry("deferred outcome replaced without completion");
    take(other);
  }
  return *this;
}

DeferredOutcome::~DeferredOutcome() {
  // Never a leak: a task whose handle is gone is retried (or dead-lettered
  // once its attempts are spent).
  if (pending()) retry("deferred outcome dropped without completion");
}

bool DeferredOutcome::complete(Outcome outcome, std::string_view result) {
  if (!pending()) return false;
  std::string bytes(result);  // may throw: before the handle lets go of its task
  detail::DeferredSink* sink = std::exchange(sink_, nullptr);
  return sink->complete_deferred(record_, context_, tag_, type_, std::move(outcome), std::move(bytes));
}

bool DeferredOutcome::succeed(std::string_view result) { return complete(Outcome::success(), result); }
bool DeferredOutcome::retry(std::string message) { return complete(Outcome::retry(std::move(message))); }
bool DeferredOutcome::fail(std::string message) { return complete(Outcome::fail(std::move(message))); }
bool DeferredOutcome::retry_after(std::chrono::nanoseconds delay, std::string message) {
  return complete(Outcome::retry_after(delay, std::move(message)));
}

}  // namespace brisk

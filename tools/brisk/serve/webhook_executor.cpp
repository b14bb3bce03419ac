// The webhook executor (executors.hpp): an attempt defers its outcome
// (TaskContext::defer), hands one HTTP POST to the WebhookLoop and returns,
// so its worker goes on at once; the loop thread completes the attempt
// from the response. A type's concurrency slots, held while deferred,
// bound its calls in flight.
#include <curl/curl.h>

#include <algorithm>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>

#include "brisk/serve/executors.hpp"
#include "brisk/serve/webhook_loop.hpp"

namespace brisk::serve {
namespace {

constexpr std::size_t kErrorTail = 512;
// A Retry-After further away than this is read as this: an endpoint cannot
// park a task for days.
constexpr std::chrono::seconds kMaxRetryAfter{3600};

std::string printable_tail(const std::string& body) {
  std::string t = body.size() > kErrorTail ? "..." + body.substr(body.size() - kErrorTail) : body;
  for (char& c : t) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_retry_after(const std::string& value, std::time_t now) {
  if (value.empty()) return std::nullopt;
  std::chrono::seconds delay{0};
  if (std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); })) {
    delay = value.size() > 9 ? kMaxRetryAfter : std::chrono::seconds(std::stol(value));  // delay-seconds
  } else {
    const std::time_t at = curl_getdate(value.c_str(), nullptr);  // an HTTP-date
    if (at == -1) return std::nullopt;
    delay = std::chrono::seconds(std::max<std::time_t>(at - now, 0));
  }
  return std::min<std::chrono::nanoseconds>(delay, kMaxRetryAfter);
}

namespace {

class WebhookExecutor;

// One attempt's call: the loop thread completes the task through `outcome`.
struct TaskCall final : WebhookCall {
  const WebhookExecutor* executor = nullptr;
  DeferredOutcome outcome;
  void done() override;
};

class WebhookExecutor final : public Executor {
 public:
  WebhookExecutor(const TypeConfig& type, std::size_t max_result_bytes, WebhookLoop& loop, TaskIds ids)
      : type_(type), max_result_bytes_(max_result_bytes), loop_(loop), ids_(ids) {}

  Outcome run(TaskContext& task) override {
    auto call = std::make_unique<TaskCall>();
    call->executor = this;
    call->url = type_.url;
    call->headers.push_back("Content-Type: " + type_.content_type);
    call->headers.push_back("Brisk-Task-Id: " + ids_.text(task.id()));
    call->headers.push_back("Brisk-Task-Type: " + std::string(task.name()));
    call->headers.push_back("Brisk-Attempt: " + std::to_string(task.attempt()));
    if (!task.idempotency_key().empty()) call->headers.push_back("Idempotency-Key: " + std::string(task.idempotency_key()));
    for (const auto& [k, v] : type_.headers) call->headers.push_back(k + ": " + v);
    call->payload.assign(task.payload());
    call->timeout_ms = static_cast<long>(type_.timeout.count());
    call->max_body = max_result_bytes_ + 1;
    call->outcome = task.defer();
    loop_.start(std::move(call));
    return Outcome::success();  // ignored: the call's outcome decides
  }

  // The loop thread: the transfer ended.
  void settle(TaskCall& c) const {
    if (c.code == CURLE_OPERATION_TIMEDOUT) {
      c.outcome.retry("webhook timed out after " + std::to_string(type_.timeout.count()) + " ms");
      return;
    }
    if (c.code == CURLE_ABORTED_BY_CALLBACK) {
      c.outcome.retry("webhook aborted: the service is stopping");
      return;
    }
    if (c.code != CURLE_OK) {
      c.outcome.retry(std::string("webhook connection error: ") + (c.error[0] ? c.error : curl_easy_strerror(c.code)));
      return;
    }
    if (c.status >= 200 && c.status < 300) {
      if (c.body_over) {
        c.outcome.fail("webhook response body is over engine.max_result_bytes (" + std::to_string(max_result_bytes_) +
                       ")");
      } else {
        c.outcome.succeed(c.body);
      }
      return;
    }
    std::string message = "webhook answered HTTP " + std::to_string(c.status);
    if (!c.retry_after.empty()) message += " (Retry-After: " + c.retry_after + ")";
    const std::string tail = printable_tail(c.body);
    if (!tail.empty()) message += ": " + tail;
    if (c.status == 429 || c.status == 503) {
      if (const auto delay = parse_retry_after(c.retry_after, std::time(nullptr))) {
        c.outcome.retry_after(*delay, std::move(message));
        return;
      }
    }
    if (c.status == 408 || c.status == 429 || c.status >= 500) {
      c.outcome.retry(std::move(message));
    } else {
      c.outcome.fail(std::move(message));
    }
  }

 private:
  const TypeConfig type_;
  const std::size_t max_result_bytes_;
  WebhookLoop& loop_;
  const TaskIds ids_;
};

void TaskCall::done() { executor->settle(*this); }

}  // namespace

std::unique_ptr<Executor> make_webhook_executor(const TypeConfig& type, std::size_t max_result_bytes,
                                                WebhookLoop& loop, TaskIds ids) {
  return std::make_unique<WebhookExecutor>(type, max_result_bytes, loop, ids);
}

void init_executors() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace brisk::serve

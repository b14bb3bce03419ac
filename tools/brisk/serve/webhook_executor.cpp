// The webhook executor (executors.hpp): one HTTP POST per attempt with
// libcurl's easy interface, blocking the calling worker for at most the
// type's time limit. Each worker thread keeps its own handle, so connections
// to the owner's endpoint are reused from one task to the next.
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <string>

#include "brisk/serve/executors.hpp"

namespace brisk::serve {
namespace {

constexpr std::size_t kErrorTail = 512;

struct ThreadHandle {
  CURL* curl = nullptr;
  ~ThreadHandle() {
    if (curl) curl_easy_cleanup(curl);
  }
};

CURL* thread_handle() {
  thread_local ThreadHandle h;
  if (!h.curl) {
    h.curl = curl_easy_init();
  } else {
    curl_easy_reset(h.curl);  // keeps the connection cache
  }
  return h.curl;
}

struct Transfer {
  std::string body;
  std::size_t cap = 0;
  bool over = false;
  std::string retry_after;
  TaskContext* task = nullptr;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  const std::size_t room = t->cap > t->body.size() ? t->cap - t->body.size() : 0;
  t->body.append(data, std::min(room, n));
  if (n > room) t->over = true;
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  std::string line(data, n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    std::string head = line.substr(0, kName.size());
    std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
    if (head == kName) {
      std::string v = line.substr(kName.size());
      v.erase(0, v.find_first_not_of(" \t"));
      while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
      t->retry_after = v.substr(0, 64);
    }
  }
  return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<Transfer*>(user)->task->cancellation_requested() ? 1 : 0;
}

std::string printable_tail(const std::string& body) {
  std::string t = body.size() > kErrorTail ? "..." + body.substr(body.size() - kErrorTail) : body;
  for (char& c : t) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

class WebhookExecutor final : public Executor {
 public:
  WebhookExecutor(const TypeConfig& type, std::size_t max_result_bytes)
      : type_(type), max_result_bytes_(max_result_bytes) {}

  Outcome run(TaskContext& task) override {
    CURL* curl = thread_handle();
    if (!curl) return Outcome::retry("cannot create an HTTP client handle");
    Transfer t;
    t.cap = max_result_bytes_ + 1;
    t.task = &task;
    curl_slist* headers = nullptr;
    auto add = [&](const std::string& h) { headers = curl_slist_append(headers, h.c_str()); };
    add("Content-Type: " + type_.content_type);
    add("Brisk-Task-Id: " + std::to_string(task.id()));
    add("Brisk-Task-Type: " + std::string(task.name()));
    add("Brisk-Attempt: " + std::to_string(task.attempt()));
    if (!task.idempotency_key().empty()) add("Idempotency-Key: " + std::string(task.idempotency_key()));
    add("Expect:");  // no 100-continue round trip for larger payloads
    for (const auto& [k, v] : type_.headers) add(k + ": " + v);
    char error[CURL_ERROR_SIZE] = {0};
    const std::string_view payload = task.payload();
    curl_easy_setopt(curl, CURLOPT_URL, type_.url.c_str());
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(type_.timeout.count()));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<long long>(type_.timeout.count(), 10'000)));
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    const CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(headers);

    if (rc == CURLE_OPERATION_TIMEDOUT) {
      return Outcome::retry("webhook timed out after " + std::to_string(type_.timeout.count()) + " ms");
    }
    if (rc == CURLE_ABORTED_BY_CALLBACK) return Outcome::retry("webhook aborted: task cancellation requested");
    if (rc != CURLE_OK) {
      return Outcome::retry(std::string("webhook connection error: ") + (error[0] ? error : curl_easy_strerror(rc)));
    }
    if (status >= 200 && status < 300) {
      if (t.over) {
        return Outcome::fail("webhook response body is over engine.max_result_bytes (" +
                             std::to_string(max_result_bytes_) + ")");
      }
      task.set_result(t.body);
      return Outcome::success();
    }
    std::string message = "webhook answered HTTP " + std::to_string(status);
    if (!t.retry_after.empty()) message += " (Retry-After: " + t.retry_after + ")";
    const std::string tail = printable_tail(t.body);
    if (!tail.empty()) message += ": " + tail;
    if (status == 408 || status == 429 || status >= 500) return Outcome::retry(message);
    return Outcome::fail(message);
  }

 private:
  TypeConfig type_;
  std::size_t max_result_bytes_;
};

}  // namespace

std::unique_ptr<Executor> make_webhook_executor(const TypeConfig& type, std::size_t max_result_bytes) {
  return std::make_unique<WebhookExecutor>(type, max_result_bytes);
}

void init_executors() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace brisk::serve

// WebhookLoop (webhook_loop.hpp): curl_multi_poll sleeps until a socket is
// ready, a timeout is due or start() wakes it (curl_multi_wakeup).
#include "brisk/serve/webhook_loop.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string_view>

namespace brisk::serve {
namespace {

// What a transfer in flight owns besides its call.
struct Transfer {
  std::unique_ptr<WebhookCall> call;
  curl_slist* headers = nullptr;
  ~Transfer() { curl_slist_free_all(headers); }
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* call = static_cast<WebhookCall*>(user);
  const std::size_t n = size * count;
  const std::size_t room = call->max_body > call->body.size() ? call->max_body - call->body.size() : 0;
  call->body.append(data, std::min(room, n));
  if (n > room) call->body_over = true;
  return n;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* call = static_cast<WebhookCall*>(user);
  const std::size_t n = size * count;
  constexpr std::string_view kName = "retry-after:";
  const std::string_view line(data, n);
  if (line.size() > kName.size() &&
      std::equal(kName.begin(), kName.end(), line.begin(),
                 [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
    std::string_view v = line.substr(kName.size());
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    call->retry_after.assign(v.substr(0, 64));
  }
  return n;
}

}  // namespace

WebhookLoop::WebhookLoop() : multi_(curl_multi_init()) {
  if (multi_ == nullptr) throw std::runtime_error("webhook executor: cannot create a libcurl multi handle");
  thread_ = std::thread([this] { run(); });
}

WebhookLoop::~WebhookLoop() {
  stopping_.store(true, std::memory_order_release);
  curl_multi_wakeup(multi_);
  thread_.join();
  for (CURL* easy : idle_) curl_easy_cleanup(easy);
  curl_multi_cleanup(multi_);
}

void WebhookLoop::start(std::unique_ptr<WebhookCall> call) {
  {
    std::lock_guard lock(mu_);
    incoming_.push_back(std::move(call));
  }
  curl_multi_wakeup(multi_);  // thread-safe: the one multi call that is
}

void WebhookLoop::begin(std::unique_ptr<WebhookCall> call) {
  CURL* easy = nullptr;
  if (!idle_.empty()) {
    easy = idle_.back();
    idle_.pop_back();
  } else {
    easy = curl_easy_init();
  }
  auto transfer = std::make_unique<Transfer>();
  WebhookCall& c = *call;
  transfer->call = std::move(call);
  if (easy == nullptr) {
    c.code = CURLE_OUT_OF_MEMORY;
    c.done();
    return;
  }
  for (const std::string& h : c.headers) transfer->headers = curl_slist_append(transfer->headers, h.c_str());
  transfer->headers = curl_slist_append(transfer->headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(easy, CURLOPT_URL, c.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, c.payload.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(c.payload.size()));
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, c.timeout_ms);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, std::min(c.timeout_ms, 10'000L));
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &c);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &c);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, c.error);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
  if (curl_multi_add_handle(multi_, easy) != CURLM_OK) {
    curl_easy_cleanup(easy);
    c.code = CURLE_FAILED_INIT;
    c.done();
    return;
  }
  active_.insert(easy);
  transfer.release();  // owned through CURLOPT_PRIVATE until finish()
}

void WebhookLoop::finish(CURL* easy, CURLcode code) {
  Transfer* raw = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &raw);
  std::unique_ptr<Transfer> transfer(raw);
  WebhookCall& c = *transfer->call;
  c.code = code;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &c.status);
  curl_multi_remove_handle(multi_, easy);
  active_.erase(easy);
  curl_easy_reset(easy);  // the connection stays in the multi handle's cache
  idle_.push_back(easy);
  c.done();
}

void WebhookLoop::run() {
  std::vector<std::unique_ptr<WebhookCall>> arrived;
  while (!stopping_.load(std::memory_order_acquire)) {
    {
      std::lock_guard lock(mu_);
      arrived.swap(incoming_);
    }
    for (auto& call : arrived) begin(std::move(call));
    arrived.clear();
    int running = 0;
    curl_multi_perform(multi_, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg == CURLMSG_DONE) finish(msg->easy_handle, msg->data.result);
    }
    curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
  }
  // Stopping: what is still in flight (or just arrived) ends as aborted.
  {
    std::lock_guard lock(mu_);
    arrived.swap(incoming_);
  }
  for (auto& call : arrived) {
    call->code = CURLE_ABORTED_BY_CALLBACK;
    call->done();
  }
  const std::vector<CURL*> in_flight(active_.begin(), active_.end());
  for (CURL* easy : in_flight) finish(easy, CURLE_ABORTED_BY_CALLBACK);
}

}  // namespace brisk::serve

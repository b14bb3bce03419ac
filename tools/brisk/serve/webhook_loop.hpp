// WebhookLoop: the webhook executor's one event-loop thread (libcurl multi).
//
// A worker hands over a call (start()) and returns; this thread runs every
// call in flight at once, reusing connections to the owners' endpoints (one
// connection cache for the whole loop), and calls the call's done() when
// its transfer ends, on this thread (WebhookCall::done). A slow endpoint therefore holds no
// worker: only its type's concurrency slots, which bound its calls in flight.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

namespace brisk::serve {

struct WebhookCall {
  virtual ~WebhookCall() = default;
  // Called once on the loop thread when the transfer ended (code, status
  // and the response are set), or when the loop stops before it did
  // (code CURLE_ABORTED_BY_CALLBACK).
  virtual void done() = 0;

  // The request.
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string payload;
  long timeout_ms = 30'000;
  std::size_t max_body = 0;  // bytes kept of the response body; more sets body_over

  // The response, filled on the loop thread.
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  bool body_over = false;
  std::string retry_after;  // the Retry-After header's value, trimmed
  char error[CURL_ERROR_SIZE] = {0};
};

class WebhookLoop {
 public:
  WebhookLoop();
  // Stops the thread; calls still in flight end with CURLE_ABORTED_BY_CALLBACK.
  ~WebhookLoop();
  WebhookLoop(const WebhookLoop&) = delete;
  WebhookLoop& operator=(const WebhookLoop&) = delete;

  // Any thread: the call starts on the loop thread at its next turn.
  void start(std::unique_ptr<WebhookCall> call);

 private:
  void run();
  void begin(std::unique_ptr<WebhookCall> call);
  void finish(CURL* easy, CURLcode code);

  CURLM* multi_ = nullptr;
  std::mutex mu_;  // guards incoming_ (workers push, the loop swaps it out)
  std::vector<std::unique_ptr<WebhookCall>> incoming_;
  // Loop thread only: easy handles in flight, and kept for reuse.
  std::unordered_set<CURL*> active_;
  std::vector<CURL*> idle_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace brisk::serve

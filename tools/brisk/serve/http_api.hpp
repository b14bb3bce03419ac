// The HTTP API v1 of `brisk serve` (docs/service.md, docs/service-openapi.yaml)
// over the public brisk::Engine API only, on transport-neutral requests and
// answers (http_types.hpp); http_server.cpp is the transport.
//
//   POST   /v1/tasks/{type}                 submit (202, 200 duplicate, 400, 404, 429, 503)
//   GET    /v1/tasks/{id}[?wait_ms=N]       state, attempts, last error, result
//   DELETE /v1/tasks/{id}                   cancel (200, 404, 409)           [admin]
//   POST   /v1/batch/{type}                 a JSON array of payloads
//   GET    /v1/dead-letters                 list                             [admin]
//   POST   /v1/dead-letters/{id}/replay     resubmit                         [admin]
//   DELETE /v1/dead-letters                 purge                            [admin]
//   GET    /metrics /healthz /readyz
//   GET    /ui                              the dashboard page (data via the API)
//   HEAD   wherever GET is                  GET's status and headers (the transport drops the body)
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <brisk/engine.hpp>

#include "brisk/serve/http_types.hpp"
#include "brisk/serve/serve_config.hpp"
#include "brisk/serve/task_ids.hpp"

namespace brisk::serve {

// {"error": code, "message": message} with that status.
HttpResponse json_error(int status, std::string_view code, std::string_view message);

class ServeApi {
 public:
  // ids: the run's task-id codec (task_ids.hpp): ids answered and accepted
  // carry the run, so an id from before a restart is never another task's.
  ServeApi(Engine& engine, const ServeConfig& config, std::map<std::string, TaskType> types, TaskIds ids);
  ServeApi(const ServeApi&) = delete;
  ServeApi& operator=(const ServeApi&) = delete;

  // Any thread, never blocks on the log: a durable answer is a Deferred that
  // is ready once the submission's group commit is on disk. The only waits
  // left are a cancel's and a purge's own log record (admin, one fsync).
  Reply handle(const HttpRequest& request);
  // Counts an answer for /metrics; the transport calls it for every answer
  // it sends, its own refusals (413, 431, ...) included.
  void count(int status) noexcept;
  // From now on submissions answer 503 and /readyz says not ready.
  void begin_shutdown() noexcept { shutting_down_.store(true, std::memory_order_relaxed); }

 private:
  enum class Scope { submit, admin };
  Reply route(const HttpRequest& req);
  std::optional<HttpResponse> authorize(const HttpRequest& req, Scope scope) const;
  std::optional<HttpResponse> refuse_if_stopping() const;
  // What a submission and a batch check first: not stopping, the submit
  // scope, a configured type, valid headers. An answer if one fails.
  std::optional<HttpResponse> admit(const HttpRequest& req, const std::string& type, TaskType& task_type,
                                    TaskOptions& options) const;
  Reply submit(const HttpRequest& req, const std::string& type);
  Reply batch(const HttpRequest& req, const std::string& type);
  Reply task_status(const HttpRequest& req, const std::string& id);
  HttpResponse cancel(const HttpRequest& req, const std::string& id);
  HttpResponse dead_letters(const HttpRequest& req);
  Reply replay(const HttpRequest& req, const std::string& id);
  HttpResponse metrics(const HttpRequest& req);
  HttpResponse readyz() const;
  // The answer to a submission (202 once durable, 200 duplicate, 429, ...).
  Reply answer_submit(const SubmitResult& r);
  // `ok()` once every result is on disk, `failed` if the log fails first.
  Deferred after_durable(std::vector<SubmitResult> waits, std::function<HttpResponse()> ok, HttpResponse failed);
  // Engine::stats() at most every 10 ms: polls ask often, failures are rare.
  bool log_failed() noexcept;

  // The engine id in `text`, or the answer to give: 400 malformed, 404 from
  // another run (`what`: the error code, unknown_task or unknown_dead_letter).
  std::optional<HttpResponse> engine_id(const std::string& text, std::string_view what, TaskId* id) const;

  Engine& engine_;
  const ServeConfig& config_;
  const TaskIds ids_;
  std::map<std::string, TaskType> types_;
  std::atomic<bool> shutting_down_{false};
  std::array<std::atomic<std::uint64_t>, 600> responses_{};  // by status code
  std::atomic<std::uint64_t> submitted_{0};                 // tasks answered 202
  std::atomic<std::int64_t> failure_checked_ns_{0};
  std::atomic<bool> log_failed_{false};
};

}  // namespace brisk::serve

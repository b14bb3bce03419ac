#include "brisk/serve/http_api.hpp"

#include "brisk/serve/dashboard.hpp"
#include "brisk/serve/json_bytes.hpp"
#include "brisk/serve/parse_number.hpp"
#include "brisk/serve/secret_compare.hpp"
#include "brisk/serve/task_headers.hpp"
#include "brisk/serve/time_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <sstream>

namespace brisk::serve {

using nlohmann::json;

namespace {

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpResponse reply(int status, const json& body) {
  HttpResponse res;
  res.status = status;
  res.body = dump(body) + "\n";
  return res;
}

HttpResponse text(int status, std::string body, std::string content_type = "text/plain") {
  HttpResponse res;
  res.status = status;
  res.body = std::move(body);
  res.content_type = std::move(content_type);
  return res;
}

HttpResponse with_header(HttpResponse res, std::string name, std::string value) {
  res.headers.emplace_back(std::move(name), std::move(value));
  return res;
}

}  // namespace

HttpResponse json_error(int status, std::string_view code, std::string_view message) {
  return reply(status, json{{"error", code}, {"message", message}});
}

ServeApi::ServeApi(Engine& engine, const ServeConfig& config, std::map<std::string, TaskType> types, TaskIds ids)
    : engine_(engine), config_(config), types_(std::move(types)), ids_(ids) {}

void ServeApi::count(int status) noexcept {
  if (status >= 100 && status < static_cast<int>(responses_.size())) {
    responses_[static_cast<std::size_t>(status)].fetch_add(1, std::memory_order_relaxed);
  }
}

Reply ServeApi::handle(const HttpRequest& request) {
  try {
    return route(request);
  } catch (const std::exception& e) {
    return json_error(500, "internal", e.what());
  }
}

Reply ServeApi::route(const HttpRequest& req) {
  const auto seg = path_segments(req.path);
  // HEAD is GET without the body (RFC 9110 9.3.2): routed as GET, same
  // status and headers; the transport sends no body.
  static const std::string kGet = "GET";
  const std::string& m = req.method == "HEAD" ? kGet : req.method;
  auto not_allowed = [] { return json_error(405, "method_not_allowed", "method not allowed here"); };
  if (!seg) return json_error(404, "not_found", "no such endpoint (see docs/service.md)");
  const std::vector<std::string>& s = *seg;
  if (s.size() == 3 && s[0] == "v1" && s[1] == "tasks") {
    if (m == "POST") return submit(req, s[2]);
    if (m == "GET") return task_status(req, s[2]);
    if (m == "DELETE") return cancel(req, s[2]);
    return not_allowed();
  }
  if (s.size() == 3 && s[0] == "v1" && s[1] == "batch") return m == "POST" ? batch(req, s[2]) : not_allowed();
  if (s.size() == 2 && s[0] == "v1" && s[1] == "dead-letters") {
    if (m == "GET") return dead_letters(req);
    if (m != "DELETE") return not_allowed();
    if (auto refused = authorize(req, Scope::admin)) return *refused;
    return reply(200, json{{"purged", engine_.purge_dead_letters()}});
  }
  if (s.size() == 4 && s[0] == "v1" && s[1] == "dead-letters" && s[3] == "replay") {
    return m == "POST" ? replay(req, s[2]) : not_allowed();
  }
  if (s.size() == 2 && s[0] == "v1" && s[1] == "noop" && config_.noop_endpoint) {
    // The same server, routing, auth and body read, without the engine: the
    // baseline that docs/perf.md measures submissions against.
    if (m != "POST") return not_allowed();
    if (auto refused = refuse_if_stopping()) return *refused;
    if (auto refused = authorize(req, Scope::submit)) return *refused;
    return reply(202, json{{"bytes", req.body.size()}});
  }
  if (s.size() == 1 && m != "GET") {
    if (s[0] == "metrics" || s[0] == "ui" || s[0] == "healthz" || s[0] == "readyz") return not_allowed();
  }
  if (s.size() == 1 && s[0] == "metrics") return metrics(req);
  if (s.size() == 1 && s[0] == "readyz") return readyz();
  if (s.size() == 1 && s[0] == "healthz") return text(200, "ok\n");
  if (s.size() == 1 && s[0] == "ui") {
    HttpResponse res = text(200, std::string(dashboard_html()), "text/html; charset=utf-8");
    res.headers = {{"Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"},
                   {"X-Frame-Options", "DENY"}};
    return res;
  }
  return json_error(404, "not_found", "no such endpoint (see docs/service.md)");
}

std::optional<HttpResponse> ServeApi::authorize(const HttpRequest& req, Scope scope) const {
  if (config_.tokens.empty()) return std::nullopt;
  const std::string* header = req.header("Authorization");
  std::string_view given;
  if (header != nullptr && header->size() > 7 &&
      (header->compare(0, 7, "Bearer ") == 0 || header->compare(0, 7, "bearer ") == 0)) {
    given = std::string_view(*header).substr(7);
  }
  const TokenConfig* match = nullptr;
  for (const TokenConfig& t : config_.tokens) {  // no early exit: every token is compared
    if (constant_time_equal(t.token, given) && match == nullptr) match = &t;
  }
  if (match == nullptr) {
    return with_header(json_error(401, "unauthorized",
                                  given.empty() ? "an Authorization: Bearer <token> header is required"
                                                : "the bearer token is not valid"),
                       "WWW-Authenticate", "Bearer realm=\"brisk\"");
  }
  const bool ok = scope == Scope::submit ? (match->submit || match->admin) : match->admin;
  if (ok) return std::nullopt;
  return json_error(403, "forbidden",
                    "token '" + match->name + "' lacks the " + (scope == Scope::submit ? "submit" : "admin") + " scope");
}

std::optional<HttpResponse> ServeApi::refuse_if_stopping() const {
  if (!shutting_down_.load(std::memory_order_relaxed)) return std::nullopt;
  return with_header(json_error(503, "shutting_down", "the service is shutting down: submit to another instance or retry later"),
                     "Retry-After", "1");
}

bool ServeApi::log_failed() noexcept {
  if (log_failed_.load(std::memory_order_relaxed)) return true;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::now().time_since_epoch()).count();
  std::int64_t last = failure_checked_ns_.load(std::memory_order_relaxed);
  if (now - last < 10'000'000 || !failure_checked_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
    return false;  // checked recently (or another thread checks now)
  }
  const bool failed = engine_.stats().wal_failed;
  if (failed) log_failed_.store(true, std::memory_order_relaxed);
  return failed;
}

Deferred ServeApi::after_durable(std::vector<SubmitResult> waits, std::function<HttpResponse()> ok, HttpResponse failed) {
  Deferred d;
  d.poll = [this, waits = std::move(waits), ok = std::move(ok), failed = std::move(failed),
            next = std::size_t{0}]() mutable -> std::optional<HttpResponse> {
    while (next < waits.size() && engine_.is_durable(waits[next])) ++next;
    if (next == waits.size()) return ok();
    if (!log_failed()) return std::nullopt;
    // The log failed: wait_durable() no longer blocks, and says which of the
    // remaining submissions were on disk before the failure.
    for (; next < waits.size(); ++next) {
      if (!engine_.wait_durable(waits[next])) return failed;
    }
    return ok();
  };
  return d;
}

// Answers a submission (or a replay) as the table says. A durable
// 202 is sent only once the task is on disk as the fsync policy promises.
Reply ServeApi::answer_submit(const SubmitResult& r) {
  switch (r.status) {
    case SubmitStatus::accepted: {
      const bool durable = r.durable_ticket != 0;
      auto accepted = [this, id = r.id, durable] {
        submitted_.fetch_add(1, std::memory_order_relaxed);
        return with_header(reply(202, json{{"id", ids_.text(id)}, {"durable", durable}}), "Location",
                           "/v1/tasks/" + ids_.text(id));
      };
      if (!durable) return accepted();
      return after_durable({r}, accepted,
                           reply(503, json{{"error", "durability_failed"},
                                           {"message",
                                            "the write-ahead log failed before the task was on disk: it may be lost in "
                                            "a crash; retry with the same Idempotency-Key"},
                                           {"id", ids_.text(r.id)}}));
    }
    case SubmitStatus::duplicate:
      return with_header(reply(200, json{{"id", ids_.text(r.id)}, {"duplicate", true}}), "Location",
                         "/v1/tasks/" + ids_.text(r.id));
    case SubmitStatus::rejected_full:
    case SubmitStatus::rejected_backpressure: {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(r.retry_after).count();
      return with_header(reply(429, json{{"error", to_string(r.status)},
                                         {"message", r.reason.empty() ? std::string("no capacity for this task now: retry later")
                                                                      : std::string(r.reason)},
                                         {"retry_after_ms", ms}}),
                         "Retry-After", std::to_string(std::max<long long>(1, (ms + 999) / 1000)));
    }
    case SubmitStatus::rejected_shutdown:
      return with_header(json_error(503, "shutting_down", "the service is shutting down"), "Retry-After", "1");
    case SubmitStatus::durability_failed:
      return json_error(503, "durability_failed",
                        r.reason.empty() ? "the write-ahead log cannot take tasks (disk full or I/O error)" : r.reason);
    case SubmitStatus::invalid:
      return json_error(400, "invalid", r.reason.empty() ? "invalid submission" : r.reason);
  }
  return json_error(500, "internal", "unexpected submit status");
}

namespace {


HttpResponse unknown_type(const std::string& name) {
  return json_error(404, "unknown_type", "no task type '" + name + "' is configured");
}

}  // namespace

std::optional<HttpResponse> ServeApi::engine_id(const std::string& text, std::string_view what, TaskId* id) const {
  switch (ids_.parse(text, id)) {
    case TaskIds::Parsed::ours:
      return std::nullopt;
    case TaskIds::Parsed::invalid:
      return json_error(400, "invalid_id", "an id is <run>-<number>, as the service answered it (e.g. 3-4294967296)");
    case TaskIds::Parsed::other_run:
      break;
  }
  return json_error(404, what,
                    "no such id in this run of the service: ids answered before a restart are not kept (the run "
                    "number before the dash changed), or it was never an id");
}

std::optional<HttpResponse> ServeApi::admit(const HttpRequest& req, const std::string& type, TaskType& task_type,
                                            TaskOptions& options) const {
  if (auto refused = refuse_if_stopping()) return refused;
  if (auto refused = authorize(req, Scope::submit)) return refused;
  const auto it = types_.find(type);
  if (it == types_.end()) return unknown_type(type);
  task_type = it->second;
  return task_options_from_headers(req, engine_.config().priority_lanes, options);
}

Reply ServeApi::submit(const HttpRequest& req, const std::string& type) {
  TaskType task_type;
  TaskOptions options;
  if (auto refused = admit(req, type, task_type, options)) return *refused;
  return answer_submit(engine_.submit(task_type, req.body, std::move(options)));
}

Reply ServeApi::batch(const HttpRequest& req, const std::string& type) {
  TaskType task_type;
  TaskOptions options;
  if (auto refused = admit(req, type, task_type, options)) return *refused;
  json items = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (items.is_discarded() || !items.is_array()) {
    return json_error(400, "invalid_body", "the body must be a JSON array of payloads");
  }
  if (items.empty() || items.size() > config_.max_batch) {
    return json_error(400, "invalid_body",
                      "a batch holds 1.." + std::to_string(config_.max_batch) + " payloads (server.max_batch)");
  }
  // Item i gets the key "<Idempotency-Key>/<i>", so a retried batch is
  // deduplicated item by item.
  const std::string key = options.idempotency_key;
  json results = json::array();
  std::vector<SubmitResult> durable;
  std::optional<SubmitResult> refusal;
  std::size_t accepted = 0, duplicates = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    TaskOptions o = options;
    if (!key.empty()) o.idempotency_key = key + "/" + std::to_string(i);
    std::string payload = items[i].is_string() ? items[i].get<std::string>() : dump(items[i]);
    const SubmitResult r = engine_.submit(task_type, std::move(payload), std::move(o));
    if (r.status == SubmitStatus::accepted) {
      ++accepted;
      if (r.durable_ticket != 0) durable.push_back(r);
      results.push_back(json{{"id", ids_.text(r.id)}});
    } else if (r.status == SubmitStatus::duplicate) {
      ++duplicates;
      results.push_back(json{{"id", ids_.text(r.id)}, {"duplicate", true}});
    } else {
      refusal = r;  // stop at the first refusal: the rest were not submitted
      break;
    }
  }
  if (accepted + duplicates == 0 && refusal) return answer_submit(*refusal);  // nothing taken: the refusal is the answer
  json body{{"accepted", accepted}, {"duplicates", duplicates}, {"durable", !durable.empty()}, {"tasks", results}};
  if (refusal) {
    body["not_submitted"] = items.size() - results.size();
    body["refusal"] = json{{"error", to_string(refusal->status)}, {"message", std::string(refusal->reason)}};
  }
  auto answer = [this, accepted, body = std::move(body)] {
    submitted_.fetch_add(accepted, std::memory_order_relaxed);
    return reply(202, body);
  };
  return after_durable(std::move(durable), std::move(answer),
                       json_error(503, "durability_failed",
                                  "the write-ahead log failed before the batch was on disk: retry it with the same "
                                  "Idempotency-Key"));
}

Reply ServeApi::task_status(const HttpRequest& req, const std::string& id_string) {
  if (auto refused = authorize(req, Scope::submit)) return *refused;
  TaskId id = 0;
  if (auto refused = engine_id(id_string, "unknown_task", &id)) return *refused;
  auto answer = [this](const TaskInfo& info) {
    if (info.state == TaskState::unknown) {
      return json_error(404, "unknown_task",
                        "no such task: never accepted here, finished and no longer remembered (engine.finished_tasks, "
                        "engine.finished_retention_s)");
    }
    json body{{"id", ids_.text(info.id)}, {"state", to_string(info.state)}, {"attempts", info.attempts}};
    body["last_error"] = info.last_error.empty() ? json(nullptr) : json(info.last_error);
    if (info.state == TaskState::succeeded) put_bytes(body, "result", info.result);
    for (const auto& [key, ns] : {std::pair{"accepted_at", info.accepted_ns}, std::pair{"started_at", info.started_ns},
                                  std::pair{"finished_at", info.finished_ns}}) {
      body[key] = ns == 0 ? json(nullptr) : json(wall_time(ns));
    }
    return reply(200, body);
  };
  const std::string* wait_ms = req.param("wait_ms");
  if (wait_ms == nullptr) return answer(engine_.status(id));
  const auto ms = parse_number<std::uint64_t>(*wait_ms);
  if (!ms) return json_error(400, "invalid_param", "wait_ms must be an integer number of milliseconds");
  // A long poll: the status is read on a timer, so a waiting client holds no
  // thread, and a shutdown ends the wait.
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(std::min<std::uint64_t>(*ms, config_.max_wait.count()));
  Deferred d;
  d.max_interval = std::chrono::milliseconds(20);
  d.poll = [this, id, deadline, answer]() -> std::optional<HttpResponse> {
    const TaskInfo info = engine_.status(id);
    if (info.state == TaskState::unknown || is_final(info.state) || std::chrono::steady_clock::now() >= deadline ||
        shutting_down_.load(std::memory_order_relaxed)) {
      return answer(info);
    }
    return std::nullopt;
  };
  return d;
}

HttpResponse ServeApi::cancel(const HttpRequest& req, const std::string& id_string) {
  if (auto refused = authorize(req, Scope::admin)) return *refused;
  TaskId id = 0;
  if (auto refused = engine_id(id_string, "unknown_task", &id)) return *refused;
  if (engine_.cancel(id)) return reply(200, json{{"id", ids_.text(id)}, {"state", "cancelled"}});
  const TaskInfo info = engine_.status(id);
  if (info.state == TaskState::unknown) return json_error(404, "unknown_task", "no such task (or no longer remembered)");
  return reply(409, json{{"error", "not_cancellable"},
                         {"message", "only a queued, delayed or retry-waiting task can be cancelled"},
                         {"id", ids_.text(id)},
                         {"state", to_string(info.state)}});
}

HttpResponse ServeApi::dead_letters(const HttpRequest& req) {
  if (auto refused = authorize(req, Scope::admin)) return *refused;
  std::size_t limit = 100;
  if (const std::string* given = req.param("limit")) {
    const auto n = parse_number<std::size_t>(*given);
    if (!n || *n == 0 || *n > 10'000) return json_error(400, "invalid_param", "limit must be 1..10000");
    limit = *n;
  }
  const std::vector<DeadLetter> letters = engine_.dead_letters();
  json list = json::array();
  for (std::size_t i = 0; i < letters.size() && i < limit; ++i) {
    const DeadLetter& d = letters[i];
    json item{{"id", ids_.text(d.id)}, {"type", d.name}, {"attempts", d.attempts}};
    put_bytes(item, "payload", d.payload);
    json failures = json::array();
    for (const AttemptFailure& f : d.failures) {
      failures.push_back(json{{"attempt", f.attempt}, {"error", f.message}, {"at", wall_time(f.time_ns)}});
    }
    item["failures"] = std::move(failures);
    list.push_back(std::move(item));
  }
  return reply(200, json{{"count", letters.size()}, {"dead_letters", std::move(list)}});
}

Reply ServeApi::replay(const HttpRequest& req, const std::string& id_string) {
  if (auto refused = refuse_if_stopping()) return *refused;
  if (auto refused = authorize(req, Scope::admin)) return *refused;
  TaskId id = 0;
  if (auto refused = engine_id(id_string, "unknown_dead_letter", &id)) return *refused;
  const SubmitResult r = engine_.replay_dead_letter(id);
  if (r.status == SubmitStatus::invalid && r.reason == std::string_view("no dead letter with that id")) {
    return json_error(404, "unknown_dead_letter", "no dead letter with that id");
  }
  return answer_submit(r);
}

HttpResponse ServeApi::metrics(const HttpRequest& req) {
  if (!config_.public_metrics) {
    if (auto refused = authorize(req, Scope::admin)) return *refused;
  }
  std::ostringstream out;
  out << engine_.prometheus_text();
  out << "# HELP brisk_serve_http_responses_total HTTP responses of brisk serve by status code.\n"
         "# TYPE brisk_serve_http_responses_total counter\n";
  for (std::size_t code = 100; code < responses_.size(); ++code) {
    const auto n = responses_[code].load(std::memory_order_relaxed);
    if (n != 0) out << "brisk_serve_http_responses_total{code=\"" << code << "\"} " << n << "\n";
  }
  out << "# HELP brisk_serve_tasks_accepted_total Tasks answered 202 by brisk serve.\n"
         "# TYPE brisk_serve_tasks_accepted_total counter\n"
         "brisk_serve_tasks_accepted_total "
      << submitted_.load(std::memory_order_relaxed) << "\n";
  return text(200, out.str(), "text/plain; version=0.0.4; charset=utf-8");
}

HttpResponse ServeApi::readyz() const {
  if (shutting_down_.load(std::memory_order_relaxed)) return text(503, "shutting down\n");
  // Details of a failure are in /metrics and the log, not here.
  if (engine_.stats().wal_failed) return text(503, "write-ahead log failed\n");
  return text(200, "ready\n");
}

}  // namespace brisk::serve

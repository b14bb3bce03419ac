#include "brisk/serve/http_api.hpp"

#include "brisk/serve/dashboard.hpp"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <optional>
#include <sstream>

namespace brisk::serve {

using nlohmann::json;

struct ServeApi::Counters {
  std::array<std::atomic<std::uint64_t>, 600> responses{};  // by status code
  std::atomic<std::uint64_t> submitted{0};                 // tasks answered 202
};

namespace {

using Req = httplib::Request;
using Res = httplib::Response;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

bool valid_utf8(std::string_view s) {
  try {
    (void)json(std::string(s)).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// Bytes as JSON: a string when they are UTF-8, else also base64 beside it.
void put_bytes(json& j, const char* key, std::string_view bytes) {
  j[key] = std::string(bytes);
  if (!valid_utf8(bytes)) j[std::string(key) + "_base64"] = base64(bytes);
}

void reply(Res& res, int status, const json& body) {
  res.status = status;
  res.set_content(dump(body) + "\n", "application/json");
}

void error(Res& res, int status, std::string_view code, std::string_view message) {
  reply(res, status, json{{"error", code}, {"message", message}});
}

// Compares in time that depends on the secret's length only, never on where
// the first difference is.
bool constant_time_equal(std::string_view secret, std::string_view given) {
  volatile unsigned char diff = secret.size() == given.size() ? 0 : 1;
  for (std::size_t i = 0; i < secret.size(); ++i) {
    const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff = diff | (static_cast<unsigned char>(secret[i]) ^ g);
  }
  return diff == 0;
}

// Engine clock (steady_clock) nanoseconds -> RFC 3339 UTC with milliseconds.
std::string wall_time(std::int64_t engine_ns) {
  if (engine_ns == 0) return {};
  const auto steady_now = std::chrono::steady_clock::now().time_since_epoch();
  const auto age = std::chrono::nanoseconds(std::chrono::duration_cast<std::chrono::nanoseconds>(steady_now).count() - engine_ns);
  const auto wall = std::chrono::system_clock::now() - std::chrono::duration_cast<std::chrono::system_clock::duration>(age);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(wall.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

// RFC 3339 ("2030-01-02T03:04:05Z", "...05.250+02:00") -> Unix nanoseconds.
std::optional<std::int64_t> parse_rfc3339(const std::string& s) {
  int y, mo, d, h, mi, sec, n = 0;
  char t;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d%n", &y, &mo, &d, &t, &h, &mi, &sec, &n) != 7 || n != 19) return {};
  if (t != 'T' && t != 't' && t != ' ') return {};
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return {};
  std::size_t i = 19;
  std::int64_t frac_ns = 0;
  if (i < s.size() && s[i] == '.') {
    std::int64_t scale = 100'000'000;
    ++i;
    const std::size_t start = i;
    for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
      frac_ns += (s[i] - '0') * scale;
      scale /= 10;
    }
    if (i == start) return {};
  }
  std::int64_t offset_s = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh, om;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59) return {};
    offset_s = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return {};
  }
  if (i != s.size()) return {};
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  const std::time_t secs = ::timegm(&tm);
  return (static_cast<std::int64_t>(secs) - offset_s) * 1'000'000'000 + frac_ns;
}

template <class T>
std::optional<T> parse_number(std::string_view s) {
  T v{};
  if (s.empty()) return {};
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return {};
  return v;
}

std::string id_text(TaskId id) { return std::to_string(id); }

}  // namespace

ServeApi::ServeApi(Engine& engine, const ServeConfig& config, std::map<std::string, TaskType> types)
    : engine_(engine), config_(config), types_(std::move(types)), counters_(std::make_unique<Counters>()) {}

ServeApi::~ServeApi() = default;

void ServeApi::install(httplib::Server& server) {
  enum class Scope { submit, admin };

  // nullptr when allowed; else the answer has been written.
  auto authorize = [this](const Req& req, Res& res, Scope scope) -> bool {
    if (config_.tokens.empty()) return true;
    const std::string header = req.get_header_value("Authorization");
    std::string_view given;
    if (header.size() > 7 && (header.compare(0, 7, "Bearer ") == 0 || header.compare(0, 7, "bearer ") == 0)) {
      given = std::string_view(header).substr(7);
    }
    const TokenConfig* match = nullptr;
    for (const TokenConfig& t : config_.tokens) {  // no early exit: every token is compared
      if (constant_time_equal(t.token, given) && match == nullptr) match = &t;
    }
    if (match == nullptr) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"brisk\"");
      error(res, 401, "unauthorized",
            given.empty() ? "an Authorization: Bearer <token> header is required" : "the bearer token is not valid");
      return false;
    }
    const bool ok = scope == Scope::submit ? (match->submit || match->admin) : match->admin;
    if (!ok) {
      error(res, 403, "forbidden",
            "token '" + match->name + "' lacks the " + (scope == Scope::submit ? "submit" : "admin") + " scope");
      return false;
    }
    return true;
  };

  auto refuse_if_stopping = [this](Res& res) -> bool {
    if (!shutting_down_.load(std::memory_order_relaxed)) return false;
    res.set_header("Retry-After", "1");
    error(res, 503, "shutting_down", "the service is shutting down: submit to another instance or retry later");
    return true;
  };

  // Answers a submission (or a replay) as the issue's table says. A durable
  // 202 is sent only once the task is on disk as the fsync policy promises.
  auto answer_submit = [this](Res& res, const SubmitResult& r) {
    switch (r.status) {
      case SubmitStatus::accepted: {
        const bool durable = r.durable_ticket != 0;
        if (durable && !engine_.wait_durable(r)) {
          reply(res, 503,
                json{{"error", "durability_failed"},
                     {"message",
                      "the write-ahead log failed before the task was on disk: it may be lost in a crash; retry with "
                      "the same Idempotency-Key"},
                     {"id", id_text(r.id)}});
          return;
        }
        counters_->submitted.fetch_add(1, std::memory_order_relaxed);
        res.set_header("Location", "/v1/tasks/" + id_text(r.id));
        reply(res, 202, json{{"id", id_text(r.id)}, {"durable", durable}});
        return;
      }
      case SubmitStatus::duplicate:
        res.set_header("Location", "/v1/tasks/" + id_text(r.id));
        reply(res, 200, json{{"id", id_text(r.id)}, {"duplicate", true}});
        return;
      case SubmitStatus::rejected_full:
      case SubmitStatus::rejected_backpressure: {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(r.retry_after).count();
        res.set_header("Retry-After", std::to_string(std::max<long long>(1, (ms + 999) / 1000)));
        reply(res, 429,
              json{{"error", to_string(r.status)},
                   {"message", r.reason.empty() ? std::string("no capacity for this task now: retry later")
                                                : std::string(r.reason)},
                   {"retry_after_ms", ms}});
        return;
      }
      case SubmitStatus::rejected_shutdown:
        res.set_header("Retry-After", "1");
        error(res, 503, "shutting_down", "the service is shutting down");
        return;
      case SubmitStatus::durability_failed:
        error(res, 503, "durability_failed",
              r.reason.empty() ? "the write-ahead log cannot take tasks (disk full or I/O error)" : r.reason);
        return;
      case SubmitStatus::invalid:
        error(res, 400, "invalid", r.reason.empty() ? "invalid submission" : r.reason);
        return;
    }
    error(res, 500, "internal", "unexpected submit status");
  };

  // Task options from the request's headers; false (and a 400) if invalid.
  auto task_options = [this](const Req& req, Res& res, TaskOptions& o) -> bool {
    if (req.has_header("Idempotency-Key")) {
      o.idempotency_key = req.get_header_value("Idempotency-Key");
      if (o.idempotency_key.empty() || o.idempotency_key.size() > 256) {
        error(res, 400, "invalid_header", "Idempotency-Key must be 1..256 characters");
        return false;
      }
      for (unsigned char c : o.idempotency_key) {
        if (c < 0x21 || c > 0x7e) {
          error(res, 400, "invalid_header", "Idempotency-Key must be printable ASCII without spaces");
          return false;
        }
      }
    }
    const bool has_delay = req.has_header("Delay-Ms"), has_run_at = req.has_header("Run-At");
    if (has_delay && has_run_at) {
      error(res, 400, "invalid_header", "give Delay-Ms or Run-At, not both");
      return false;
    }
    if (has_delay) {
      const auto ms = parse_number<std::uint64_t>(req.get_header_value("Delay-Ms"));
      if (!ms || *ms > 10ull * 365 * 86'400'000) {
        error(res, 400, "invalid_header", "Delay-Ms must be an integer number of milliseconds, 0..315360000000");
        return false;
      }
      o.delay = std::chrono::milliseconds(*ms);
    }
    if (has_run_at) {
      const auto at = parse_rfc3339(req.get_header_value("Run-At"));
      if (!at) {
        error(res, 400, "invalid_header", "Run-At must be an RFC 3339 time, e.g. 2030-01-02T03:04:05Z");
        return false;
      }
      const std::int64_t wall_now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::system_clock::now().time_since_epoch()).count();
      const std::int64_t steady_now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch()).count();
      o.run_at_ns = steady_now + std::max<std::int64_t>(0, *at - wall_now);
    }
    if (req.has_header("Priority")) {
      const std::string p = req.get_header_value("Priority");
      const unsigned lanes = engine_.config().priority_lanes;
      if (p == "high") {
        o.priority = priority::high;
      } else if (p == "normal") {
        o.priority = priority::normal;
      } else if (p == "low") {
        o.priority = priority::low;
      } else if (auto n = parse_number<unsigned>(p); n && *n < lanes) {
        o.priority = static_cast<Priority>(*n);
      } else {
        error(res, 400, "invalid_header",
              "Priority must be high, normal, low or a lane 0.." + std::to_string(lanes - 1));
        return false;
      }
    }
    return true;
  };

  auto find_type = [this](const std::string& name, Res& res) -> std::optional<TaskType> {
    const auto it = types_.find(name);
    if (it == types_.end()) {
      error(res, 404, "unknown_type", "no task type '" + name + "' is configured");
      return std::nullopt;
    }
    return it->second;
  };

  auto parse_id = [](const std::string& text, Res& res) -> std::optional<TaskId> {
    const auto id = parse_number<TaskId>(text);
    if (!id || *id == 0) {
      error(res, 400, "invalid_id", "a task id is a positive decimal integer");
      return std::nullopt;
    }
    return id;
  };

  server.Post(R"(/v1/tasks/([^/]+))", [=, this](const Req& req, Res& res) {
    if (refuse_if_stopping(res) || !authorize(req, res, Scope::submit)) return;
    const auto type = find_type(req.matches[1], res);
    TaskOptions options;
    if (!type || !task_options(req, res, options)) return;
    answer_submit(res, engine_.submit(*type, req.body, std::move(options)));
  });

  server.Post(R"(/v1/batch/([^/]+))", [=, this](const Req& req, Res& res) {
    if (refuse_if_stopping(res) || !authorize(req, res, Scope::submit)) return;
    const auto type = find_type(req.matches[1], res);
    TaskOptions options;
    if (!type || !task_options(req, res, options)) return;
    json items = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (items.is_discarded() || !items.is_array()) {
      error(res, 400, "invalid_body", "the body must be a JSON array of payloads");
      return;
    }
    if (items.empty() || items.size() > config_.max_batch) {
      error(res, 400, "invalid_body", "a batch holds 1.." + std::to_string(config_.max_batch) + " payloads (server.max_batch)");
      return;
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
      const SubmitResult r = engine_.submit(*type, std::move(payload), std::move(o));
      if (r.status == SubmitStatus::accepted) {
        ++accepted;
        if (r.durable_ticket != 0) durable.push_back(r);
        results.push_back(json{{"id", id_text(r.id)}});
      } else if (r.status == SubmitStatus::duplicate) {
        ++duplicates;
        results.push_back(json{{"id", id_text(r.id)}, {"duplicate", true}});
      } else {
        refusal = r;  // stop at the first refusal: the rest were not submitted
        break;
      }
    }
    for (const SubmitResult& r : durable) {
      if (!engine_.wait_durable(r)) {
        reply(res, 503,
              json{{"error", "durability_failed"},
                   {"message", "the write-ahead log failed before the batch was on disk: retry it with the same Idempotency-Key"}});
        return;
      }
    }
    if (accepted + duplicates == 0 && refusal) {
      answer_submit(res, *refusal);  // nothing taken: the refusal is the answer
      return;
    }
    counters_->submitted.fetch_add(accepted, std::memory_order_relaxed);
    json body{{"accepted", accepted}, {"duplicates", duplicates}, {"durable", !durable.empty()}, {"tasks", results}};
    if (refusal) {
      body["not_submitted"] = items.size() - results.size();
      body["refusal"] = json{{"error", to_string(refusal->status)}, {"message", std::string(refusal->reason)}};
    }
    reply(res, 202, body);
  });

  server.Get(R"(/v1/tasks/([^/]+))", [=, this](const Req& req, Res& res) {
    if (!authorize(req, res, Scope::submit)) return;
    const auto id = parse_id(req.matches[1], res);
    if (!id) return;
    TaskInfo info;
    if (req.has_param("wait_ms")) {
      const auto ms = parse_number<std::uint64_t>(req.get_param_value("wait_ms"));
      if (!ms) {
        error(res, 400, "invalid_param", "wait_ms must be an integer number of milliseconds");
        return;
      }
      // In slices, so that a shutdown does not wait for long polls to end.
      const auto deadline = std::chrono::steady_clock::now() +
                            std::chrono::milliseconds(std::min<std::uint64_t>(*ms, config_.max_wait.count()));
      for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        info = engine_.wait(*id, std::clamp(left, std::chrono::milliseconds(0), std::chrono::milliseconds(250)));
        if (info.state == TaskState::unknown || is_final(info.state) || left.count() <= 250 ||
            shutting_down_.load(std::memory_order_relaxed)) {
          break;
        }
      }
    } else {
      info = engine_.status(*id);
    }
    if (info.state == TaskState::unknown) {
      error(res, 404, "unknown_task",
            "no such task: never accepted here, finished and no longer remembered (engine.finished_tasks, "
            "engine.finished_retention_s), or accepted before a restart (ids are not kept across restarts)");
      return;
    }
    json body{{"id", id_text(info.id)}, {"state", to_string(info.state)}, {"attempts", info.attempts}};
    body["last_error"] = info.last_error.empty() ? json(nullptr) : json(info.last_error);
    if (info.state == TaskState::succeeded) put_bytes(body, "result", info.result);
    for (const auto& [key, ns] : {std::pair{"accepted_at", info.accepted_ns}, std::pair{"started_at", info.started_ns},
                                  std::pair{"finished_at", info.finished_ns}}) {
      body[key] = ns == 0 ? json(nullptr) : json(wall_time(ns));
    }
    reply(res, 200, body);
  });

  server.Delete(R"(/v1/tasks/([^/]+))", [=, this](const Req& req, Res& res) {
    if (!authorize(req, res, Scope::admin)) return;
    const auto id = parse_id(req.matches[1], res);
    if (!id) return;
    if (engine_.cancel(*id)) {
      reply(res, 200, json{{"id", id_text(*id)}, {"state", "cancelled"}});
      return;
    }
    const TaskInfo info = engine_.status(*id);
    if (info.state == TaskState::unknown) {
      error(res, 404, "unknown_task", "no such task (or no longer remembered)");
      return;
    }
    reply(res, 409,
          json{{"error", "not_cancellable"},
               {"message", "only a queued, delayed or retry-waiting task can be cancelled"},
               {"id", id_text(*id)},
               {"state", to_string(info.state)}});
  });

  server.Get("/v1/dead-letters", [=, this](const Req& req, Res& res) {
    if (!authorize(req, res, Scope::admin)) return;
    std::size_t limit = 100;
    if (req.has_param("limit")) {
      const auto n = parse_number<std::size_t>(req.get_param_value("limit"));
      if (!n || *n == 0 || *n > 10'000) {
        error(res, 400, "invalid_param", "limit must be 1..10000");
        return;
      }
      limit = *n;
    }
    const std::vector<DeadLetter> letters = engine_.dead_letters();
    json list = json::array();
    for (std::size_t i = 0; i < letters.size() && i < limit; ++i) {
      const DeadLetter& d = letters[i];
      json item{{"id", id_text(d.id)}, {"type", d.name}, {"attempts", d.attempts}};
      put_bytes(item, "payload", d.payload);
      json failures = json::array();
      for (const AttemptFailure& f : d.failures) {
        failures.push_back(json{{"attempt", f.attempt}, {"error", f.message}, {"at", wall_time(f.time_ns)}});
      }
      item["failures"] = std::move(failures);
      list.push_back(std::move(item));
    }
    reply(res, 200, json{{"count", letters.size()}, {"dead_letters", std::move(list)}});
  });

  server.Post(R"(/v1/dead-letters/([^/]+)/replay)", [=, this](const Req& req, Res& res) {
    if (refuse_if_stopping(res) || !authorize(req, res, Scope::admin)) return;
    const auto id = parse_id(req.matches[1], res);
    if (!id) return;
    const SubmitResult r = engine_.replay_dead_letter(*id);
    if (r.status == SubmitStatus::invalid && r.reason == std::string_view("no dead letter with that id")) {
      error(res, 404, "unknown_dead_letter", "no dead letter with that id");
      return;
    }
    answer_submit(res, r);
  });

  server.Delete("/v1/dead-letters", [=, this](const Req& req, Res& res) {
    if (!authorize(req, res, Scope::admin)) return;
    reply(res, 200, json{{"purged", engine_.purge_dead_letters()}});
  });

  server.Get("/metrics", [=, this](const Req& req, Res& res) {
    if (!config_.public_metrics && !authorize(req, res, Scope::admin)) return;
    std::ostringstream out;
    out << engine_.prometheus_text();
    out << "# HELP brisk_serve_http_responses_total HTTP responses of brisk serve by status code.\n"
           "# TYPE brisk_serve_http_responses_total counter\n";
    for (std::size_t code = 100; code < counters_->responses.size(); ++code) {
      const auto n = counters_->responses[code].load(std::memory_order_relaxed);
      if (n != 0) out << "brisk_serve_http_responses_total{code=\"" << code << "\"} " << n << "\n";
    }
    out << "# HELP brisk_serve_tasks_accepted_total Tasks answered 202 by brisk serve.\n"
           "# TYPE brisk_serve_tasks_accepted_total counter\n"
           "brisk_serve_tasks_accepted_total "
        << counters_->submitted.load(std::memory_order_relaxed) << "\n";
    res.set_content(out.str(), "text/plain; version=0.0.4; charset=utf-8");
  });

  if (config_.noop_endpoint) {
    // The same server, routing, auth and body read, without the engine: the
    // baseline that docs/perf.md measures submissions against.
    server.Post("/v1/noop", [=, this](const Req& req, Res& res) {
      if (refuse_if_stopping(res) || !authorize(req, res, Scope::submit)) return;
      reply(res, 202, json{{"bytes", req.body.size()}});
    });
  }

  server.Get("/ui", [](const Req&, Res& res) {
    res.set_header("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'");
    res.set_header("X-Frame-Options", "DENY");
    res.set_content(std::string(dashboard_html()), "text/html; charset=utf-8");
  });

  server.Get("/healthz", [](const Req&, Res& res) { res.set_content("ok\n", "text/plain"); });

  server.Get("/readyz", [this](const Req&, Res& res) {
    if (shutting_down_.load(std::memory_order_relaxed)) {
      res.status = 503;
      res.set_content("shutting down\n", "text/plain");
      return;
    }
    const EngineStats stats = engine_.stats();
    if (!stats.wal_failure.empty()) {
      res.status = 503;
      res.set_content("write-ahead log failed\n", "text/plain");  // details in /metrics and the log, not here
      return;
    }
    res.set_content("ready\n", "text/plain");
  });

  // Bodies over the limit are refused by httplib itself (413) before they
  // are read; headers are checked here before routing.
  server.set_payload_max_length(config_.max_body_bytes);
  server.set_pre_routing_handler([this](const Req& req, Res& res) {
    std::size_t bytes = req.target.size();
    for (const auto& [k, v] : req.headers) bytes += k.size() + v.size() + 4;
    if (bytes > config_.max_header_bytes) {
      res.set_header("Connection", "close");
      error(res, 431, "headers_too_large",
            "request headers are over server.max_header_bytes (" + std::to_string(config_.max_header_bytes) + ")");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.set_error_handler([](const Req&, Res& res) {
    if (!res.body.empty()) return;
    switch (res.status) {
      case 404: error(res, 404, "not_found", "no such endpoint (see docs/service.md)"); break;
      case 405: error(res, 405, "method_not_allowed", "method not allowed here"); break;
      case 413: error(res, 413, "body_too_large", "the request body is over server.max_body_bytes"); break;
      case 414: error(res, 414, "uri_too_long", "the request target is too long"); break;
      default: error(res, res.status, "error", "the request was refused (HTTP " + std::to_string(res.status) + ")"); break;
    }
  });
  server.set_exception_handler([](const Req&, Res& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    error(res, 500, "internal", what);
  });
  server.set_logger([this](const Req&, const Res& res) {
    if (res.status >= 100 && res.status < 600) counters_->responses[res.status].fetch_add(1, std::memory_order_relaxed);
  });
}

}  // namespace brisk::serve

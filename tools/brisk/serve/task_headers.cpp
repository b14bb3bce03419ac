#include "brisk/serve/task_headers.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

#include "brisk/serve/http_api.hpp"
#include "brisk/serve/parse_number.hpp"
#include "brisk/serve/time_text.hpp"

namespace brisk::serve {

std::optional<HttpResponse> task_options_from_headers(const HttpRequest& req, unsigned priority_lanes, TaskOptions& o) {
  auto invalid = [](std::string_view message) { return json_error(400, "invalid_header", message); };
  if (const std::string* key = req.header("Idempotency-Key")) {
    o.idempotency_key = *key;
    if (o.idempotency_key.empty() || o.idempotency_key.size() > 256) {
      return invalid("Idempotency-Key must be 1..256 characters");
    }
    for (unsigned char c : o.idempotency_key) {
      if (c < 0x21 || c > 0x7e) return invalid("Idempotency-Key must be printable ASCII without spaces");
    }
  }
  const std::string* delay = req.header("Delay-Ms");
  const std::string* run_at = req.header("Run-At");
  if (delay != nullptr && run_at != nullptr) return invalid("give Delay-Ms or Run-At, not both");
  if (delay != nullptr) {
    const auto ms = parse_number<std::uint64_t>(*delay);
    if (!ms || *ms > 10ull * 365 * 86'400'000) {
      return invalid("Delay-Ms must be an integer number of milliseconds, 0..315360000000");
    }
    o.delay = std::chrono::milliseconds(*ms);
  }
  if (run_at != nullptr) {
    const auto at = parse_rfc3339(*run_at);
    if (!at) return invalid("Run-At must be an RFC 3339 time, e.g. 2030-01-02T03:04:05Z");
    const std::int64_t wall_now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                      std::chrono::system_clock::now().time_since_epoch()).count();
    const std::int64_t steady_now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch()).count();
    o.run_at_ns = steady_now + std::max<std::int64_t>(0, *at - wall_now);
  }
  if (const std::string* p = req.header("Priority")) {
    const unsigned lanes = priority_lanes;
    if (*p == "high") {
      o.priority = priority::high;
    } else if (*p == "normal") {
      o.priority = priority::normal;
    } else if (*p == "low") {
      o.priority = priority::low;
    } else if (auto n = parse_number<unsigned>(*p); n && *n < lanes) {
      o.priority = static_cast<Priority>(*n);
    } else {
      return invalid("Priority must be high, normal, low or a lane 0.." + std::to_string(lanes - 1));
    }
  }
  return std::nullopt;
}

}  // namespace brisk::serve

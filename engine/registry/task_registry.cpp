#include "registry/task_registry.hpp"

#include <algorithm>
#include <cmath>

#include "brisk/config.hpp"

namespace brisk::detail {

namespace {

// Retry delays and timeouts are added to the engine clock (and, for durable
// retries, converted to wall-clock time, ~1.8e18 ns since 1970): bounded
// well below where that sum would overflow int64 nanoseconds (292 years).
constexpr std::chrono::hours kLongestDelay{24 * 365 * 100};

void validate(const std::string& name, const Handler& handler, const TaskTypeOptions& o) {
  auto fail = [&](const std::string& why) {
    throw ConfigError("task type '" + name + "': " + why);
  };
  if (name.empty()) throw ConfigError("task type name must not be empty");
  if (name.size() > 255) fail("name longer than 255 bytes");
  if (!handler) fail("handler is empty");
  if (!(o.rate_per_second >= 0) || !std::isfinite(o.rate_per_second)) {
    fail("rate_per_second must be >= 0 and finite");
  }
  if (!(o.burst >= 0) || !std::isfinite(o.burst)) fail("burst must be >= 0 and finite");
  if (o.retry.max_attempts == 0) fail("retry.max_attempts must be >= 1");
  // A dead letter keeps every attempt's failure, and the log's record of it
  // must stay readable (wal/records.cpp: kMaxFailures).
  if (o.retry.max_attempts > 65536) fail("retry.max_attempts must be <= 65536");
  if (o.retry.base.count() < 0 || o.retry.cap.count() < 0) fail("retry delays must be >= 0");
  if (o.retry.cap < o.retry.base) fail("retry.cap must be >= retry.base");
  if (o.soft_timeout.count() < 0 || o.hard_timeout.count() < 0) fail("timeouts must be >= 0");
  if (o.retry.cap > kLongestDelay) fail("retry.cap must be <= 100 years (the due time would overflow the clock)");
  if (o.soft_timeout > kLongestDelay || o.hard_timeout > kLongestDelay) {
    fail("timeouts must be <= 100 years (the deadline would overflow the clock)");
  }
}

}  // namespace

std::uint32_t TaskRegistry::add(std::string name, Handler handler, const TaskTypeOptions& options) {
  validate(name, handler, options);
  if (by_name_.count(name) != 0) throw ConfigError("task type '" + name + "' is already registered");
  auto entry = std::make_unique<TaskTypeEntry>();
  entry->name = name;
  entry->handler = std::move(handler);
  entry->options = options;
  if (options.rate_per_second > 0) {
    entry->limiter = std::make_unique<RateLimiter>(options.rate_per_second,
                                                   options.burst > 0 ? options.burst : 1.0);
  }
  if (options.max_concurrency != 0) entry->gate = std::make_unique<ConcurrencyGate>(options.max_concurrency);
  const auto index = static_cast<std::uint32_t>(entries_.size());
  entries_.push_back(std::move(entry));
  by_name_.emplace(std::move(name), index);
  return index;
}

std::int64_t TaskRegistry::find(std::string_view name) const noexcept {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? -1 : static_cast<std::int64_t>(it->second);
}

}  // namespace brisk::detail

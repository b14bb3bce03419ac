// TaskRegistry: named task types and their handlers.
//
// Filled before start() and read-only afterwards, so lookups by name or by
// index need no lock; per-type counters are atomics updated by workers.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "brisk/task.hpp"
#include "flow/concurrency_gate.hpp"
#include "flow/rate_limiter.hpp"

namespace brisk::detail {

struct TaskTypeCounters {
  // relaxed everywhere: independent monotonic counters read for reporting.
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> succeeded{0};
  std::atomic<std::uint64_t> failed_attempts{0};
  std::atomic<std::uint64_t> retried{0};
  std::atomic<std::uint64_t> rate_limited{0};
  std::atomic<std::uint64_t> timed_out{0};     // attempts past the hard limit
  std::atomic<std::uint64_t> late_results{0};  // results of those attempts, discarded
  std::atomic<std::uint64_t> dead_lettered{0};
  std::atomic<std::uint64_t> cancelled{0};
};

struct TaskTypeEntry {
  std::string name;
  Handler handler;
  TaskTypeOptions options;
  TaskTypeCounters counters;
  std::unique_ptr<ConcurrencyGate> gate;  // only with options.max_concurrency
  std::unique_ptr<RateLimiter> limiter;   // only with options.rate_per_second
};

class TaskRegistry {
 public:
  // Throws ConfigError for an empty or duplicate name or invalid options.
  std::uint32_t add(std::string name, Handler handler, const TaskTypeOptions& options);

  // Index of name, or -1 if unknown.
  std::int64_t find(std::string_view name) const noexcept;
  bool contains(std::uint32_t index) const noexcept { return index < entries_.size(); }
  TaskTypeEntry& at(std::uint32_t index) noexcept { return *entries_[index]; }
  const TaskTypeEntry& at(std::uint32_t index) const noexcept { return *entries_[index]; }
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::unique_ptr<TaskTypeEntry>> entries_;
  std::unordered_map<std::string, std::uint32_t, NameHash, std::equal_to<>> by_name_;
};

}  // namespace brisk::detail

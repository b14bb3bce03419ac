// TaskRegistry: named task types and their handlers.
//
// Filled before start() and read-only afterwards, so lookups by name or by
// index need no lock; per-type counters are striped atomics (task_type_counters.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "brisk/task.hpp"
#include "flow/concurrency_gate.hpp"
#include "flow/rate_limiter.hpp"
#include "registry/task_type_counters.hpp"

namespace brisk::detail {

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

// Health: when the engine calls itself degraded, and why.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace brisk {

// Each check compares two successive observations (a window). Defaults
// disable every check that has no universal sensible value.
struct HealthThresholds {
  std::uint64_t max_queue_depth = UINT64_MAX;
  double max_error_rate = 1.0;          // failed / completed over the window, 0..1 (1: off)
  std::uint64_t min_completions = 100;  // completions needed to judge the error rate
  // Degraded when the window's completion rate falls below this fraction of
  // the recent baseline while work is waiting; 0..1, 0 disables.
  double min_rate_ratio = 0.0;
  std::uint32_t max_dead_workers = 0;
  std::uint64_t max_dlq_growth = UINT64_MAX;  // new dead letters per window
};

struct HealthReport {
  std::vector<std::string> reasons;  // empty when healthy
  double rate_per_s = 0;             // completions per second over the window
  bool rate_degraded = false;        // the rate check failed (kept out of the baseline)

  bool healthy() const noexcept { return reasons.empty(); }
  std::string text() const;  // "ok", or the reasons one per line
};

}  // namespace brisk

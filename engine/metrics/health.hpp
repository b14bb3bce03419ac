// Health: judges the engine healthy or degraded from two successive
// snapshots. evaluate_health() is a pure function of its inputs, so every
// verdict can be reproduced in a test; HealthMonitor adds the little state a
// live server needs (the previous snapshot and the processing-rate baseline).
//
// A check that lacks evidence passes: the error rate is judged only over a
// window with at least min_completions completions, and a processing-rate
// drop only while work is waiting (an idle engine processes nothing, and
// that is not a fault) and once a baseline exists.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "brisk/health.hpp"

namespace brisk::metrics {

// Counters at one instant; the engine fills it from its stats snapshot.
struct HealthSnapshot {
  std::uint64_t at_ns = 0;        // steady clock when taken
  std::uint64_t queue_depth = 0;  // accepted, not yet started
  std::uint64_t succeeded = 0;    // cumulative
  std::uint64_t failed = 0;       // cumulative, attempts that threw or timed out
  std::uint64_t dlq_size = 0;     // dead letters currently held
  std::uint32_t workers = 0;      // configured
  std::uint32_t workers_alive = 0;
};

// The thresholds and the report are public (include/brisk/health.hpp).
using HealthThresholds = brisk::HealthThresholds;
using HealthReport = brisk::HealthReport;

HealthReport evaluate_health(const HealthThresholds& t, const HealthSnapshot& previous, const HealthSnapshot& current,
                             double baseline_rate_per_s);

// Keeps the previous snapshot and an exponentially weighted baseline of the
// completion rate (alpha = weight of the newest window). Idle windows and
// windows whose rate was judged degraded do not pull the baseline down, so
// neither a quiet spell nor a stall erases the memory of the normal rate. Not thread-safe: the
// caller serialises observe() (one health endpoint or timer).
class HealthMonitor {
 public:
  explicit HealthMonitor(HealthThresholds t, double alpha = 0.2) : thresholds_(t), alpha_(alpha) {}

  // The first call has no window: it judges only the instantaneous checks.
  HealthReport observe(const HealthSnapshot& now);
  double baseline_rate_per_s() const noexcept { return baseline_; }

 private:
  HealthThresholds thresholds_;
  double alpha_;
  double baseline_ = 0;
  bool have_previous_ = false;
  HealthSnapshot previous_;
};

}  // namespace brisk::metrics

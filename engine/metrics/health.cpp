#include "metrics/health.hpp"

#include <cstdio>

namespace brisk {

std::string HealthReport::text() const {
  if (healthy()) return "ok\n";
  std::string out;
  for (const std::string& r : reasons) out += r + '\n';
  return out;
}

}  // namespace brisk

namespace brisk::metrics {
namespace {

std::string format(const char* fmt, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

// Counters are cumulative; a smaller value means the source was reset, and
// the window then counts from zero rather than wrapping.
std::uint64_t delta(std::uint64_t before, std::uint64_t after) { return after >= before ? after - before : after; }

}  // namespace

HealthReport evaluate_health(const HealthThresholds& t, const HealthSnapshot& previous, const HealthSnapshot& current,
                             double baseline_rate_per_s) {
  HealthReport r;
  if (current.queue_depth > t.max_queue_depth) {
    r.reasons.push_back(format("queue depth %llu exceeds %llu", static_cast<unsigned long long>(current.queue_depth),
                               static_cast<unsigned long long>(t.max_queue_depth)));
  }
  const std::uint32_t dead = current.workers > current.workers_alive ? current.workers - current.workers_alive : 0;
  if (dead > t.max_dead_workers) {
    r.reasons.push_back(format("%u of %u workers dead (at most %u allowed)", dead, current.workers, t.max_dead_workers));
  }
  if (current.at_ns <= previous.at_ns) return r;  // no window: only the instantaneous checks

  const std::uint64_t ok = delta(previous.succeeded, current.succeeded);
  const std::uint64_t failed = delta(previous.failed, current.failed);
  const std::uint64_t completed = ok + failed;
  const double error_rate = completed == 0 ? 0.0 : static_cast<double>(failed) / static_cast<double>(completed);
  if (completed >= t.min_completions && error_rate > t.max_error_rate) {
    r.reasons.push_back(format("error rate %.1f%% (%llu of %llu) exceeds %.1f%%", error_rate * 100,
                               static_cast<unsigned long long>(failed), static_cast<unsigned long long>(completed),
                               t.max_error_rate * 100));
  }
  const double seconds = static_cast<double>(current.at_ns - previous.at_ns) / 1e9;
  r.rate_per_s = static_cast<double>(completed) / seconds;
  if (t.min_rate_ratio > 0 && baseline_rate_per_s > 0 && current.queue_depth > 0 &&
      r.rate_per_s < t.min_rate_ratio * baseline_rate_per_s) {
    r.rate_degraded = true;
    r.reasons.push_back(format("processing rate %.0f/s below %.0f%% of baseline %.0f/s with %llu queued", r.rate_per_s,
                               t.min_rate_ratio * 100, baseline_rate_per_s,
                               static_cast<unsigned long long>(current.queue_depth)));
  }
  const std::uint64_t dlq_growth = delta(previous.dlq_size, current.dlq_size);
  if (current.dlq_size > previous.dlq_size && dlq_growth > t.max_dlq_growth) {
    r.reasons.push_back(format("dead-letter queue grew by %llu (at most %llu allowed)",
                               static_cast<unsigned long long>(dlq_growth),
                               static_cast<unsigned long long>(t.max_dlq_growth)));
  }
  return r;
}

HealthReport HealthMonitor::observe(const HealthSnapshot& now) {
  const HealthReport r = evaluate_health(thresholds_, have_previous_ ? previous_ : now, now, baseline_);
  if (have_previous_ && r.rate_per_s > 0 && !r.rate_degraded) {
    baseline_ = baseline_ == 0 ? r.rate_per_s : alpha_ * r.rate_per_s + (1 - alpha_) * baseline_;
  }
  previous_ = now;
  have_previous_ = true;
  return r;
}

}  // namespace brisk::metrics

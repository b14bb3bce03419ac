#include "schedule/schedule_rule.hpp"

#include <limits>

#include "brisk/schedule.hpp"
#include "schedule/civil.hpp"

namespace brisk {
namespace detail {

namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;
// Larger than any daylight-saving shift the tz database holds (2 h).
constexpr std::int64_t kShiftMargin = 3 * 3600;

}  // namespace

std::optional<std::int64_t> ScheduleRule::cron_next_after_s(std::int64_t after_s) const {
  const TimeZone& tz = *zone;
  const std::int64_t local0 = after_s + tz.offset_at(after_s);
  const std::int64_t limit = local0 + kSearchYears * 366 * civil::kSecondsPerDay;
  // Far from a transition local time is after_s shifted by one offset, and the
  // first match after local0 is the answer. Near one, scan a margin either
  // side and keep the earliest instant (local order is not instant order in
  // a repeated hour).
  auto quiet = [&](std::int64_t a, std::int64_t b) {
    return tz.offset_at(a - kShiftMargin) == tz.offset_at(b + kShiftMargin);
  };
  const bool fixed = cron.fixed_time();
  std::optional<std::int64_t> best;
  std::int64_t best_local = 0;
  std::int64_t c = quiet(after_s, after_s) ? local0 + 1 : local0 - kShiftMargin;
  while (true) {
    const std::optional<std::int64_t> m = cron.next_match(c, limit);
    if (!m) break;
    if (best && *m > best_local + kShiftMargin) break;
    const TimeZone::Instants in = tz.to_utc(*m);
    std::int64_t candidates[2];
    int n = 0;
    if (in.count >= 1) candidates[n++] = in.first;
    if (in.count == 2 && !fixed) candidates[n++] = in.second;  // wildcard jobs run in both passes
    if (in.count == 0 && fixed) candidates[n++] = in.gap_end;  // fixed-time jobs run when the gap ends
    for (int i = 0; i < n; ++i) {
      if (candidates[i] > after_s && (!best || candidates[i] < *best)) {
        best = candidates[i];
        best_local = *m;
      }
    }
    if (best && quiet(after_s, *best)) break;
    c = *m + 60;
  }
  return best;
}

std::optional<std::int64_t> ScheduleRule::next_after(std::int64_t wall_ns) const {
  if (kind == Kind::interval) {
    const std::int64_t k = civil::floor_div(wall_ns - phase_ns, period_ns) + 1;
    if (k > (std::numeric_limits<std::int64_t>::max() - phase_ns) / period_ns) return std::nullopt;
    return k * period_ns + phase_ns;
  }
  const std::optional<std::int64_t> s = cron_next_after_s(civil::floor_div(wall_ns, kNsPerSecond));
  if (!s || *s > std::numeric_limits<std::int64_t>::max() / kNsPerSecond) return std::nullopt;
  return *s * kNsPerSecond;
}

std::optional<std::int64_t> ScheduleRule::last_at_or_before(std::int64_t wall_ns) const {
  if (kind == Kind::interval) return civil::floor_div(wall_ns - phase_ns, period_ns) * period_ns + phase_ns;
  // Windows growing 16x from two minutes; scan each forward from its start.
  std::int64_t window = 120 * kNsPerSecond;
  const std::int64_t kMax = kSearchYears * 366 * civil::kSecondsPerDay * kNsPerSecond;
  while (true) {
    std::optional<std::int64_t> last;
    for (std::optional<std::int64_t> s = next_after(wall_ns - window); s && *s <= wall_ns; s = next_after(*s)) last = s;
    if (last) return last;
    if (window >= kMax) return std::nullopt;
    window = std::min(window * 16, kMax);
  }
}

std::string ScheduleRule::describe() const {
  if (kind == Kind::interval) {
    std::string s = "every " + std::to_string(period_ns / 1'000'000) + "ms";
    if (phase_ns != 0) s += " +" + std::to_string(phase_ns / 1'000'000) + "ms";
    return s;
  }
  return "cron '" + cron.text + "' " + zone->name();
}

}  // namespace detail

// ---- brisk::Schedule ----

Schedule Schedule::every(std::chrono::nanoseconds period, std::chrono::nanoseconds phase) {
  if (period < std::chrono::milliseconds(1))
    throw ConfigError("Schedule::every: period must be at least 1 ms (got " + std::to_string(period.count()) + " ns)");
  if (phase.count() < 0 || phase >= period)
    throw ConfigError("Schedule::every: phase must be in [0, period) (got " + std::to_string(phase.count()) + " ns)");
  auto rule = std::make_shared<detail::ScheduleRule>();
  rule->kind = detail::ScheduleRule::Kind::interval;
  rule->period_ns = period.count();
  rule->phase_ns = phase.count();
  return Schedule(std::move(rule));
}

Schedule Schedule::cron(std::string_view expression, std::string_view time_zone) {
  auto rule = std::make_shared<detail::ScheduleRule>();
  rule->kind = detail::ScheduleRule::Kind::cron;
  rule->cron = detail::CronExpr::parse(expression);
  rule->zone = detail::TimeZone::load(time_zone);
  // An expression whose days never come (30 February) never fires.
  if (!rule->cron.next_match(0, detail::kSearchYears * 366 * detail::civil::kSecondsPerDay))
    throw ConfigError("cron \"" + std::string(expression) + "\": never fires (no day matches it)");
  return Schedule(std::move(rule));
}

std::optional<std::int64_t> Schedule::next_after(std::int64_t wall_ns) const { return rule_->next_after(wall_ns); }
std::optional<std::int64_t> Schedule::last_at_or_before(std::int64_t wall_ns) const {
  return rule_->last_at_or_before(wall_ns);
}
std::string Schedule::describe() const { return rule_->describe(); }

}  // namespace brisk

// What a Schedule is inside: an interval, or a cron expression in a time
// zone, and the slot arithmetic on wall-clock nanoseconds.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "schedule/cron.hpp"
#include "schedule/time_zone.hpp"

namespace brisk::detail {

// How far ahead a slot is searched for: an expression with no slot within
// this many years is refused (Schedule::cron) or has ended.
inline constexpr std::int64_t kSearchYears = 30;

struct ScheduleRule {
  enum class Kind : std::uint8_t { interval, cron } kind = Kind::interval;
  std::int64_t period_ns = 0;
  std::int64_t phase_ns = 0;
  CronExpr cron;
  std::shared_ptr<const TimeZone> zone;

  std::optional<std::int64_t> next_after(std::int64_t wall_ns) const;
  std::optional<std::int64_t> last_at_or_before(std::int64_t wall_ns) const;
  std::string describe() const;

 private:
  std::optional<std::int64_t> cron_next_after_s(std::int64_t after_s) const;
};

}  // namespace brisk::detail

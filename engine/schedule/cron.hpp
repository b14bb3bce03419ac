// A 5-field cron expression (minute hour day-of-month month day-of-week):
// the parser, and matching on local civil time. Syntax and the day rule
// are Vixie cron's (include/brisk/schedule.hpp, Schedule::cron).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace brisk::detail {

struct CronExpr {
  std::uint64_t minutes = 0;  // bit m: minute m (0..59)
  std::uint32_t hours = 0;    // bit h: hour h (0..23)
  std::uint32_t days = 0;     // bit d: day of month d (1..31)
  std::uint32_t months = 0;   // bit m: month m (1..12)
  std::uint32_t weekdays = 0; // bit d: day d of the week (0 = Sunday .. 6)
  // The field's text starts with '*' (Vixie's DOM_STAR, DOW_STAR, ...).
  bool minute_star = false, hour_star = false, day_star = false, weekday_star = false;
  std::string text;  // as given

  // Throws CronError naming the field and the 1-based character position.
  static CronExpr parse(std::string_view text);

  // Vixie cron's day rule: both day fields restricted: either matches;
  // otherwise both must (a '*' field matches every day).
  bool day_matches(std::int64_t days_since_epoch) const noexcept;
  // The first civil minute (seconds since 1970-01-01 00:00 local, a multiple
  // of 60) at or after local_s that matches, if any up to limit_s.
  std::optional<std::int64_t> next_match(std::int64_t local_s, std::int64_t limit_s) const noexcept;
  // A fixed-time job: neither minute nor hour starts with '*'.
  bool fixed_time() const noexcept { return !minute_star && !hour_star; }
};

}  // namespace brisk::detail

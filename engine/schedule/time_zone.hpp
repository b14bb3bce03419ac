// Time zones from the system's compiled tz database (TZif files, RFC 8536):
// the transitions, and the POSIX TZ rule in the file's footer for instants
// after the last one. Why not a library: g++ 12's <chrono> has no tzdb, and
// Howard Hinnant's date/tz (Debian's libhowardhinnant-date-dev) is a shared
// library (libdate-tz) that every static-brisk consumer would then have to
// link (brisk.pc, briskConfig.cmake), and its USE_OS_TZDB mode ignores the
// footer rule. Reading TZif is about 250 lines, tested against zdump's
// transitions for real zones (tests/unit/schedule_time_zone_test.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace brisk::detail {

// A POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"): standard offset, and
// optionally a daylight-saving offset with its yearly start and end.
struct PosixTzRule {
  struct Day {
    enum class Kind : std::uint8_t { julian_no_leap, zero_based, month_week_day } kind = Kind::month_week_day;
    int n = 0;            // Jn (1..365) or n (0..365)
    int month = 0;        // Mm.w.d
    int week = 0;         // 1..5, 5 = last
    int weekday = 0;      // 0 = Sunday
    std::int32_t time = 7200;  // seconds after local midnight the change happens (may be < 0 or > 24h)
  };
  std::int32_t std_offset = 0;  // seconds east of UTC
  bool has_dst = false;
  std::int32_t dst_offset = 0;
  Day start, end;

  // Parses the footer text; false if it is not a rule this reader knows.
  static bool parse(std::string_view text, PosixTzRule* out);
  std::int32_t offset_at(std::int64_t utc_s) const noexcept;
};

class TimeZone {
 public:
  // "UTC" or an IANA name, read from $TZDIR or /usr/share/zoneinfo. Throws
  // ConfigError naming the zone and the reason.
  static std::shared_ptr<const TimeZone> load(std::string_view name);
  static std::shared_ptr<const TimeZone> utc();
  // From TZif bytes (tests). Throws ConfigError.
  static std::shared_ptr<const TimeZone> from_tzif(std::string name, std::string_view bytes);

  const std::string& name() const noexcept { return name_; }
  // Seconds east of UTC at this instant.
  std::int32_t offset_at(std::int64_t utc_s) const noexcept;

  // The instants a local civil time (seconds, counted as if UTC) names:
  // one; two in a repeated hour (first < second); none in a skipped hour,
  // then gap_end is the instant the gap ends (the first valid local time
  // after it).
  struct Instants {
    int count = 0;
    std::int64_t first = 0;
    std::int64_t second = 0;
    std::int64_t gap_end = 0;
  };
  Instants to_utc(std::int64_t local_s) const noexcept;

 private:
  std::string name_;
  std::vector<std::int64_t> transitions_;     // UTC seconds, ascending
  std::vector<std::int32_t> offset_after_;    // offset from transitions_[i] on
  std::int32_t initial_offset_ = 0;           // before the first transition
  bool has_rule_ = false;
  PosixTzRule rule_;
};

}  // namespace brisk::detail

// Cron text and time zones: the parser (what it accepts, and errors that name
// the field and the 1-based position), next occurrences in UTC and in real
// zones across daylight-saving gaps and overlaps (Vixie cron's rule), the
// TZif footer rule for years after the file's last transition.
#include "brisk/schedule.hpp"

#include <gtest/gtest.h>

#include <string>

#include "schedule/cron.hpp"
#include "schedule/time_zone.hpp"

namespace brisk {
namespace {

using detail::CronExpr;

constexpr std::int64_t kS = 1'000'000'000;

std::int64_t utc(int y, unsigned mo, unsigned d, int h, int mi) {
  // days_from_civil, as the library does (tested against Python's zoneinfo numbers below).
  std::int64_t yy = y - (mo <= 2);
  const std::int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(yy - era * 400);
  const unsigned doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = era * 146097 + doe - 719468;
  return (days * 86400 + h * 3600 + mi * 60) * kS;
}

struct Bad {
  const char* text;
  const char* field;
  std::size_t position;
  const char* message_part;
};

TEST(ScheduleCron, InvalidTextNamesFieldAndPosition) {
  const Bad cases[] = {
      {"*/5 * 32 * *", "day-of-month", 7, "32 is out of range 1-31"},
      {"60 * * * *", "minute", 1, "60 is out of range 0-59"},
      {"* 24 * * *", "hour", 3, "24 is out of range 0-23"},
      {"* * * 13 *", "month", 7, "13 is out of range 1-12"},
      {"* * * * 8", "day-of-week", 9, "8 is out of range 0-7"},
      {"5-1 * * * *", "minute", 1, "range 5-1 is reversed"},
      {"*/0 * * * *", "minute", 3, "step 0 is out of range 1-60"},
      {"*/ * * * *", "minute", 3, "a step needs a number"},
      {"1,,2 * * * *", "minute", 3, "empty list item"},
      {"1, * * * *", "minute", 2, "a list may not end with ','"},
      {"* * * FOO *", "month", 7, "unknown name 'FOO'"},
      {"* * * * MONDAY", "day-of-week", 9, "unknown name 'MONDAY'"},
      {"MON * * * *", "minute", 1, "names are not allowed here"},
      {"1x * * * *", "minute", 2, "unexpected 'x'"},
      {"* * * *", "expression", 8, "expected 5 fields"},
      {"* * * * * *", "expression", 11, "found 6"},
      {"   ", "expression", 1, "empty"},
      {"@reboot", "expression", 1, "unknown macro '@reboot'"},
      {"0 0 1-5/x * *", "day-of-month", 9, "a step needs a number"},
      {"  0 0 * JAN-DEC/13 *", "month", 17, "step 13 is out of range 1-12"},
  };
  for (const Bad& c : cases) {
    try {
      (void)CronExpr::parse(c.text);
      ADD_FAILURE() << "accepted \"" << c.text << "\"";
    } catch (const CronError& e) {
      EXPECT_EQ(e.field(), c.field) << c.text << ": " << e.what();
      EXPECT_EQ(e.position(), c.position) << c.text << ": " << e.what();
      const std::string what = e.what();
      EXPECT_NE(what.find(c.message_part), std::string::npos) << what;
      EXPECT_NE(what.find(std::string(c.field) + ": "), std::string::npos) << what;
      EXPECT_NE(what.find("(position " + std::to_string(c.position)), std::string::npos) << what;
    }
  }
}

TEST(ScheduleCron, CronErrorIsAConfigErrorAndTheDocumentedExample) {
  try {
    (void)Schedule::cron("*/5 * 32 * *");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "cron \"*/5 * 32 * *\": day-of-month: 32 is out of range 1-31 (position 7)");
  }
  EXPECT_THROW((void)Schedule::cron("0 0 30 2 *"), ConfigError) << "30 February never comes";
  EXPECT_THROW((void)Schedule::cron("0 0 * * *", "Mars/Olympus_Mons"), ConfigError);
  EXPECT_THROW((void)Schedule::cron("0 0 * * *", "../../etc/passwd"), ConfigError);
  EXPECT_THROW((void)Schedule::every(std::chrono::microseconds(10)), ConfigError);
}

TEST(ScheduleCron, FieldsListsRangesStepsNames) {
  const CronExpr e = CronExpr::parse("0,15-17,*/20 9-17/4 1,15 jan-Mar,DEC mon-fri");
  EXPECT_EQ(e.minutes, (1ull << 0) | (1ull << 15) | (1ull << 16) | (1ull << 17) | (1ull << 20) | (1ull << 40));
  EXPECT_EQ(e.hours, (1u << 9) | (1u << 13) | (1u << 17));
  EXPECT_EQ(e.days, (1u << 1) | (1u << 15));
  EXPECT_EQ(e.months, (1u << 1) | (1u << 2) | (1u << 3) | (1u << 12));
  EXPECT_EQ(e.weekdays, 0b0111110u);
  EXPECT_EQ(CronExpr::parse("* * * * 7").weekdays, 1u) << "7 is Sunday";
  EXPECT_EQ(CronExpr::parse("* * * * 5-7").weekdays, (1u << 5) | (1u << 6) | 1u);
  EXPECT_EQ(CronExpr::parse("* * * * *").weekdays, 0x7fu);
  EXPECT_EQ(CronExpr::parse("10/20 * * * *").minutes, (1ull << 10) | (1ull << 30) | (1ull << 50)) << "a/n: a to the end";
  EXPECT_EQ(CronExpr::parse("@hourly").minutes, 1ull);
  EXPECT_EQ(CronExpr::parse("@weekly").weekdays, 1u);
  EXPECT_TRUE(CronExpr::parse("0 3 * * *").fixed_time());
  EXPECT_FALSE(CronExpr::parse("*/5 3 * * *").fixed_time());
  EXPECT_FALSE(CronExpr::parse("5 * * * *").fixed_time());
}

TEST(ScheduleCron, NextOccurrenceInUtc) {
  const Schedule s = Schedule::cron("*/15 9-17 * * MON-FRI");
  // Friday 2025-01-03 17:45 is the last slot of the week; Monday 09:00 next.
  EXPECT_EQ(s.next_after(utc(2025, 1, 3, 17, 40)), utc(2025, 1, 3, 17, 45));
  EXPECT_EQ(s.next_after(utc(2025, 1, 3, 17, 45)), utc(2025, 1, 6, 9, 0)) << "strictly after";
  EXPECT_EQ(s.last_at_or_before(utc(2025, 1, 5, 12, 0)), utc(2025, 1, 3, 17, 45));
  EXPECT_EQ(s.last_at_or_before(utc(2025, 1, 6, 9, 0)), utc(2025, 1, 6, 9, 0));
  // Leap day, yearly.
  const Schedule leap = Schedule::cron("0 12 29 2 *");
  EXPECT_EQ(leap.next_after(utc(2025, 1, 1, 0, 0)), utc(2028, 2, 29, 12, 0));
  EXPECT_EQ(leap.last_at_or_before(utc(2027, 1, 1, 0, 0)), utc(2024, 2, 29, 12, 0));
  // Month ends: the 31st skips short months.
  const Schedule eom = Schedule::cron("0 0 31 * *");
  EXPECT_EQ(eom.next_after(utc(2025, 4, 1, 0, 0)), utc(2025, 5, 31, 0, 0));
}

TEST(ScheduleCron, VixieDayRuleEitherDayFieldWhenBothRestricted) {
  // "1st of the month OR any Monday": 2025-01-01 is a Wednesday.
  const Schedule either = Schedule::cron("0 0 1 * MON");
  EXPECT_EQ(either.next_after(utc(2024, 12, 31, 1, 0)), utc(2025, 1, 1, 0, 0));
  EXPECT_EQ(either.next_after(utc(2025, 1, 1, 0, 0)), utc(2025, 1, 6, 0, 0)) << "the Monday after";
  // A '*' day field: the other one alone decides.
  const Schedule mondays = Schedule::cron("0 0 * * MON");
  EXPECT_EQ(mondays.next_after(utc(2024, 12, 31, 1, 0)), utc(2025, 1, 6, 0, 0));
  // Vixie: a field starting with '*' counts as unrestricted, so */2 with a
  // weekday means both (odd days that are Mondays).
  const Schedule both = Schedule::cron("0 0 */2 * MON");
  EXPECT_EQ(both.next_after(utc(2025, 1, 1, 0, 0)), utc(2025, 1, 13, 0, 0));
}

TEST(ScheduleCron, BerlinSpringForwardFixedTimeRunsAtTheEndOfTheGap) {
  // 2025-03-30: 02:00 CET becomes 03:00 CEST (01:00 UTC); 02:30 does not exist.
  const Schedule s = Schedule::cron("30 2 * * *", "Europe/Berlin");
  EXPECT_EQ(s.next_after(utc(2025, 3, 29, 0, 0)), 1743211800 * kS) << "02:30 CET on the 29th";
  EXPECT_EQ(s.next_after(1743211800 * kS), 1743296400 * kS) << "the gap's end, 03:00 CEST";
  EXPECT_EQ(s.next_after(1743296400 * kS), 1743381000 * kS) << "02:30 CEST on the 31st";
}

TEST(ScheduleCron, BerlinSpringForwardWildcardFollowsRealTime) {
  const Schedule s = Schedule::cron("*/30 * * * *", "Europe/Berlin");
  // 00:30 UTC is 01:30 CET; next real half hour is 01:00 UTC = 03:00 CEST.
  EXPECT_EQ(s.next_after(utc(2025, 3, 30, 0, 30)), utc(2025, 3, 30, 1, 0));
  EXPECT_EQ(s.next_after(utc(2025, 3, 30, 1, 0)), utc(2025, 3, 30, 1, 30));
}

TEST(ScheduleCron, BerlinFallBackFixedTimeRunsOnceWildcardTwice) {
  // 2025-10-26: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:xx happens twice.
  const Schedule fixed = Schedule::cron("30 2 * * *", "Europe/Berlin");
  EXPECT_EQ(fixed.next_after(utc(2025, 10, 25, 12, 0)), 1761438600 * kS) << "the first 02:30 (CEST)";
  EXPECT_EQ(fixed.next_after(1761438600 * kS), 1761528600 * kS) << "not the second 02:30: the next day's";
  const Schedule wild = Schedule::cron("*/30 * * * *", "Europe/Berlin");
  std::int64_t t = utc(2025, 10, 26, 0, 0);
  for (const std::int64_t want : {utc(2025, 10, 26, 0, 30), utc(2025, 10, 26, 1, 0), utc(2025, 10, 26, 1, 30),
                                  utc(2025, 10, 26, 2, 0)}) {
    t = *wild.next_after(t);
    EXPECT_EQ(t, want) << "every half hour of real time, through both passes";
  }
}

TEST(ScheduleCron, SouthernHemisphereAndNewYork) {
  // Sydney: 2025-10-05 02:00 AEST becomes 03:00 AEDT (16:00 UTC on the 4th).
  const Schedule syd = Schedule::cron("30 2 * * *", "Australia/Sydney");
  EXPECT_EQ(syd.next_after(utc(2025, 10, 4, 0, 0)), 1759593600 * kS);
  // New York: 2025-11-02 01:30 happens twice; a fixed-time job runs at the first (EDT).
  const Schedule ny = Schedule::cron("30 1 * * *", "America/New_York");
  EXPECT_EQ(ny.next_after(utc(2025, 11, 1, 12, 0)), 1762061400 * kS);
}

TEST(ScheduleCron, FooterRuleCoversYearsAfterTheLastTransition) {
  // Whatever the file lists, 2050 comes from its POSIX rule (CET-1CEST,M3.5.0,M10.5.0/3).
  const auto berlin = detail::TimeZone::load("Europe/Berlin");
  EXPECT_EQ(berlin->offset_at(2540282400), 7200) << "July 2050: CEST";
  EXPECT_EQ(berlin->offset_at(2524647600), 3600) << "January 2050: CET";
  // 2050-03-27 is the last Sunday of March: 01:00 UTC.
  const std::int64_t change = utc(2050, 3, 27, 1, 0) / kS;
  EXPECT_EQ(berlin->offset_at(change - 1), 3600);
  EXPECT_EQ(berlin->offset_at(change), 7200);
  detail::PosixTzRule r;
  ASSERT_TRUE(detail::PosixTzRule::parse("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", &r));  // Lord Howe
  EXPECT_EQ(r.std_offset, 37800);
  EXPECT_EQ(r.dst_offset, 39600);
  ASSERT_TRUE(detail::PosixTzRule::parse("JST-9", &r));
  EXPECT_FALSE(r.has_dst);
  EXPECT_EQ(r.offset_at(0), 9 * 3600);
  EXPECT_FALSE(detail::PosixTzRule::parse("CET-1CEST,M13.5.0,M10.5.0/3", &r));
}

TEST(ScheduleCron, TimeZoneTransitionsMatchTheSystemForAYear) {
  // Every hour of 2025 in three zones, against glibc's localtime_r (which
  // reads the same files through its own reader).
  for (const char* name : {"Europe/Berlin", "America/New_York", "Australia/Sydney"}) {
    const auto zone = detail::TimeZone::load(name);
    setenv("TZ", name, 1);
    tzset();
    for (std::int64_t t = utc(2025, 1, 1, 0, 0) / kS; t < utc(2026, 1, 1, 0, 0) / kS; t += 1800) {
      const time_t tt = static_cast<time_t>(t);
      struct tm tm_local {};
      localtime_r(&tt, &tm_local);
      ASSERT_EQ(zone->offset_at(t), tm_local.tm_gmtoff) << name << " at " << t;
    }
  }
  unsetenv("TZ");
  tzset();
}

TEST(ScheduleCron, IntervalSlotsAreAnchoredToTheEpoch) {
  using namespace std::chrono_literals;
  const Schedule s = Schedule::every(5min);
  EXPECT_EQ(s.next_after(utc(2025, 1, 1, 10, 2)), utc(2025, 1, 1, 10, 5));
  EXPECT_EQ(s.next_after(utc(2025, 1, 1, 10, 5)), utc(2025, 1, 1, 10, 10));
  EXPECT_EQ(s.last_at_or_before(utc(2025, 1, 1, 10, 9)), utc(2025, 1, 1, 10, 5));
  const Schedule phased = Schedule::every(1h, 15min);
  EXPECT_EQ(phased.next_after(utc(2025, 1, 1, 10, 20)), utc(2025, 1, 1, 11, 15));
  EXPECT_EQ(phased.describe(), "every 3600000ms +900000ms");
  EXPECT_EQ(Schedule::cron("0 3 * * *", "Europe/Berlin").describe(), "cron '0 3 * * *' Europe/Berlin");
}

}  // namespace
}  // namespace brisk

#include "schedule/time_zone.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include "brisk/config.hpp"
#include "schedule/civil.hpp"

namespace brisk::detail {

namespace {

// ---- POSIX TZ rule text ----

class RuleParser {
 public:
  explicit RuleParser(std::string_view s) : s_(s) {}
  bool done() const noexcept { return i_ == s_.size(); }
  bool eat(char c) noexcept {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  char peek() const noexcept { return i_ < s_.size() ? s_[i_] : '\0'; }
  // A zone abbreviation: <...> or 3+ letters.
  bool name() {
    if (eat('<')) {
      const std::size_t close = s_.find('>', i_);
      if (close == std::string_view::npos) return false;
      i_ = close + 1;
      return true;
    }
    const std::size_t from = i_;
    while (i_ < s_.size() && ((s_[i_] >= 'A' && s_[i_] <= 'Z') || (s_[i_] >= 'a' && s_[i_] <= 'z'))) ++i_;
    return i_ - from >= 3;
  }
  bool number(int* out, int max) {
    const std::size_t from = i_;
    long v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9' && i_ - from < 4) v = v * 10 + (s_[i_++] - '0');
    if (i_ == from || v > max) return false;
    *out = static_cast<int>(v);
    return true;
  }
  // [+-]hh[:mm[:ss]] in seconds.
  bool hms(std::int32_t* out, int max_hours) {
    int sign = 1;
    if (eat('-')) {
      sign = -1;
    } else {
      eat('+');
    }
    int h = 0, m = 0, sec = 0;
    if (!number(&h, max_hours)) return false;
    if (eat(':')) {
      if (!number(&m, 59)) return false;
      if (eat(':') && !number(&sec, 59)) return false;
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    return true;
  }
  bool day(PosixTzRule::Day* d) {
    using Kind = PosixTzRule::Day::Kind;
    if (eat('M')) {
      d->kind = Kind::month_week_day;
      if (!number(&d->month, 12) || d->month < 1 || !eat('.') || !number(&d->week, 5) || d->week < 1 || !eat('.') ||
          !number(&d->weekday, 6))
        return false;
    } else if (eat('J')) {
      d->kind = Kind::julian_no_leap;
      if (!number(&d->n, 365) || d->n < 1) return false;
    } else {
      d->kind = Kind::zero_based;
      if (!number(&d->n, 365)) return false;
    }
    d->time = 7200;
    if (eat('/') && !hms(&d->time, 167)) return false;
    return true;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

// Local midnight (seconds, civil count) of a rule's day in year y.
std::int64_t rule_day_start(const PosixTzRule::Day& d, std::int64_t y) noexcept {
  using Kind = PosixTzRule::Day::Kind;
  std::int64_t days = 0;
  switch (d.kind) {
    case Kind::julian_no_leap:
      days = civil::days_from_civil(y, 1, 1) + (d.n - 1) + (civil::is_leap(y) && d.n > 59 ? 1 : 0);
      break;
    case Kind::zero_based:
      days = civil::days_from_civil(y, 1, 1) + d.n;
      break;
    case Kind::month_week_day: {
      const std::int64_t first = civil::days_from_civil(y, static_cast<unsigned>(d.month), 1);
      const int wd1 = static_cast<int>(civil::weekday_from_days(first));
      int day = 1 + (d.weekday - wd1 + 7) % 7 + (d.week - 1) * 7;
      const int dim = static_cast<int>(civil::days_in_month(y, static_cast<unsigned>(d.month)));
      while (day > dim) day -= 7;
      days = first + (day - 1);
      break;
    }
  }
  return days * civil::kSecondsPerDay;
}

std::uint32_t be32(const unsigned char* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::int64_t be64(const unsigned char* p) noexcept {
  return static_cast<std::int64_t>((std::uint64_t{be32(p)} << 32) | be32(p + 4));
}

[[noreturn]] void fail(const std::string& zone, const std::string& why) {
  throw ConfigError("time zone \"" + zone + "\": " + why);
}

}  // namespace

bool PosixTzRule::parse(std::string_view text, PosixTzRule* out) {
  RuleParser p(text);
  PosixTzRule r;
  std::int32_t west = 0;
  if (!p.name() || !p.hms(&west, 24)) return false;
  r.std_offset = -west;
  if (!p.done()) {
    if (!p.name()) return false;
    r.has_dst = true;
    r.dst_offset = r.std_offset + 3600;
    if (p.peek() != ',' && !p.done()) {
      if (!p.hms(&west, 24)) return false;
      r.dst_offset = -west;
    }
    if (p.eat(',')) {
      if (!p.day(&r.start) || !p.eat(',') || !p.day(&r.end)) return false;
    } else {
      // POSIX leaves the default to the implementation; US rules, as glibc.
      r.start = {Day::Kind::month_week_day, 0, 3, 2, 0, 7200};
      r.end = {Day::Kind::month_week_day, 0, 11, 1, 0, 7200};
    }
  }
  if (!p.done()) return false;
  *out = r;
  return true;
}

std::int32_t PosixTzRule::offset_at(std::int64_t utc_s) const noexcept {
  if (!has_dst) return std_offset;
  const std::int64_t y = civil::civil_from_days(civil::floor_div(utc_s + std_offset, civil::kSecondsPerDay)).year;
  // The start is given in standard time, the end in daylight time.
  const std::int64_t s = rule_day_start(start, y) + start.time - std_offset;
  const std::int64_t e = rule_day_start(end, y) + end.time - dst_offset;
  const bool dst = s < e ? (utc_s >= s && utc_s < e) : !(utc_s >= e && utc_s < s);
  return dst ? dst_offset : std_offset;
}

std::shared_ptr<const TimeZone> TimeZone::utc() {
  static const std::shared_ptr<const TimeZone> zone = [] {
    auto z = std::make_shared<TimeZone>();
    z->name_ = "UTC";
    return z;
  }();
  return zone;
}

std::shared_ptr<const TimeZone> TimeZone::load(std::string_view name) {
  const std::string zone(name);
  if (zone == "UTC" || zone == "Etc/UTC" || zone == "Z") return utc();
  if (zone.empty()) fail(zone, "empty name (use \"UTC\" or an IANA name like \"Europe/Berlin\")");
  if (zone.front() == '/' || zone.find("..") != std::string::npos || zone.find('\0') != std::string::npos)
    fail(zone, "not an IANA zone name (like \"Europe/Berlin\")");
  const char* tzdir = std::getenv("TZDIR");
  const std::string dir = tzdir != nullptr && *tzdir != '\0' ? tzdir : "/usr/share/zoneinfo";
  const std::string path = dir + "/" + zone;
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(zone, "unknown (no file " + path + "; is the tzdata package installed?)");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return from_tzif(zone, bytes.str());
}

std::shared_ptr<const TimeZone> TimeZone::from_tzif(std::string name, std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t size = data.size();
  auto header = [&](std::size_t at, std::uint32_t counts[6]) {
    if (at + 44 > size || data.compare(at, 4, "TZif") != 0) fail(name, "not a TZif file");
    for (int i = 0; i < 6; ++i) counts[i] = be32(p + at + 20 + 4 * i);
  };
  // counts: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  std::uint32_t c[6];
  header(0, c);
  const char version = data[4];
  std::size_t at = 44;
  int time_size = 4;
  if (version >= '2') {
    // Skip the 32-bit block; the 64-bit one follows with its own header.
    at += std::size_t{c[3]} * 5 + std::size_t{c[4]} * 6 + c[5] + std::size_t{c[2]} * 8 + c[1] + c[0];
    header(at, c);
    at += 44;
    time_size = 8;
  }
  const std::size_t timecnt = c[3], typecnt = c[4];
  const std::size_t need = timecnt * (time_size + 1) + typecnt * 6 + c[5] + std::size_t{c[2]} * (time_size + 4) + c[1] + c[0];
  if (typecnt == 0 || at + need > size) fail(name, "truncated TZif file");
  auto zone = std::make_shared<TimeZone>();
  zone->name_ = std::move(name);
  const unsigned char* times = p + at;
  const unsigned char* idx = times + timecnt * time_size;
  const unsigned char* types = idx + timecnt;
  auto type_offset = [&](std::size_t t) -> std::int32_t {
    if (t >= typecnt) fail(zone->name_, "bad local time type index");
    return static_cast<std::int32_t>(be32(types + t * 6));
  };
  zone->initial_offset_ = type_offset(0);
  zone->transitions_.reserve(timecnt);
  zone->offset_after_.reserve(timecnt);
  for (std::size_t i = 0; i < timecnt; ++i) {
    const std::int64_t t = time_size == 8 ? be64(times + 8 * i) : static_cast<std::int32_t>(be32(times + 4 * i));
    if (!zone->transitions_.empty() && t <= zone->transitions_.back()) fail(zone->name_, "transitions out of order");
    zone->transitions_.push_back(t);
    zone->offset_after_.push_back(type_offset(idx[i]));
  }
  if (version >= '2') {
    const std::size_t footer = at + need;
    if (footer < size && data[footer] == '\n') {
      const std::size_t end = data.find('\n', footer + 1);
      if (end != std::string_view::npos && end > footer + 1) {
        zone->has_rule_ = PosixTzRule::parse(data.substr(footer + 1, end - footer - 1), &zone->rule_);
      }
    }
  }
  return zone;
}

std::int32_t TimeZone::offset_at(std::int64_t utc_s) const noexcept {
  if (transitions_.empty()) return has_rule_ ? rule_.offset_at(utc_s) : initial_offset_;
  if (utc_s < transitions_.front()) return initial_offset_;
  if (utc_s >= transitions_.back() && has_rule_) return rule_.offset_at(utc_s);
  const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc_s);
  return offset_after_[static_cast<std::size_t>(it - transitions_.begin()) - 1];
}

TimeZone::Instants TimeZone::to_utc(std::int64_t local_s) const noexcept {
  // Offsets in force a day either side; a local time is valid under offset o
  // when the instant local - o really has offset o.
  const std::int32_t before = offset_at(local_s - civil::kSecondsPerDay);
  const std::int32_t after = offset_at(local_s + civil::kSecondsPerDay);
  const std::int32_t here = offset_at(local_s);
  std::int64_t found[3];
  int n = 0;
  for (std::int32_t o : {before, after, here}) {
    const std::int64_t t = local_s - o;
    if (offset_at(t) != o) continue;
    if (std::find(found, found + n, t) == found + n) found[n++] = t;
  }
  Instants r;
  if (n >= 1) {
    // The earliest and the latest (not std::sort: g++ 12 warns about its
    // insertion-sort path on a 3-element array, wrongly).
    const auto [earliest, latest] = std::minmax_element(found, found + n);
    r.count = n >= 2 ? 2 : 1;
    r.first = *earliest;
    r.second = *latest;
    return r;
  }
  // A gap: the clock jumped from `before` to a larger offset. The gap ends at
  // the transition, the first instant in (local - after, local - before]
  // whose offset is no longer `before`.
  std::int64_t lo = local_s - std::max(before, after);
  std::int64_t hi = local_s - std::min(before, after);
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    if (offset_at(mid) != before) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  r.count = 0;
  r.gap_end = lo;
  return r;
}

}  // namespace brisk::detail

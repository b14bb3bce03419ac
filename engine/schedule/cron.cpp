#include "schedule/cron.hpp"

#include <array>
#include <bit>
#include <cctype>
#include <vector>

#include "brisk/schedule.hpp"
#include "schedule/civil.hpp"

namespace brisk::detail {

namespace {

struct FieldSpec {
  const char* name;
  int lo, hi;                 // accepted values (day-of-week: 0..7, 7 is Sunday)
  const char* const* names;   // names for lo, lo+1, ... (nullptr: numbers only)
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

constexpr std::array<FieldSpec, 5> kFields = {{
    {"minute", 0, 59, nullptr},
    {"hour", 0, 23, nullptr},
    {"day-of-month", 1, 31, nullptr},
    {"month", 1, 12, kMonthNames},
    {"day-of-week", 0, 7, kDayNames},
}};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  [[noreturn]] void fail(const std::string& field, std::size_t offset, const std::string& what) const {
    throw CronError("cron \"" + std::string(text_) + "\": " + field + ": " + what + " (position " +
                        std::to_string(offset + 1) + ")",
                    field, offset + 1);
  }

  // Parses field f, which occupies text_[from, to), into a bit set.
  std::uint64_t field(std::size_t f, std::size_t from, std::size_t to) const {
    const FieldSpec& spec = kFields[f];
    std::uint64_t bits = 0;
    std::size_t i = from;
    while (true) {
      if (i == to || text_[i] == ',') fail(spec.name, i, "empty list item");
      bits |= item(spec, &i, to);
      if (i == to) break;
      if (text_[i] != ',') fail(spec.name, i, "unexpected '" + std::string(1, text_[i]) + "'");
      ++i;
      if (i == to) fail(spec.name, i - 1, "a list may not end with ','");
    }
    return bits;
  }

 private:
  // One list item: * | v | v-v, each optionally /step.
  std::uint64_t item(const FieldSpec& spec, std::size_t* i, std::size_t to) const {
    const std::size_t start = *i;
    int lo = spec.lo, hi = spec.hi;
    bool single = false;
    if (text_[*i] == '*') {
      ++*i;
      if (spec.hi == 7) hi = 6;  // '*' in day-of-week: 0..6 (7 is Sunday again)
    } else {
      lo = value(spec, i, to);
      if (*i < to && text_[*i] == '-') {
        ++*i;
        hi = value(spec, i, to);
        if (hi < lo)
          fail(spec.name, start,
               "range " + std::string(text_.substr(start, *i - start)) + " is reversed (write " +
                   std::to_string(lo) + "-" + std::to_string(spec.hi) + "," + std::to_string(spec.lo) + "-" +
                   std::to_string(hi) + ")");
      } else {
        single = true;
        hi = lo;
      }
    }
    int step = 1;
    if (*i < to && text_[*i] == '/') {
      ++*i;
      const std::size_t step_at = *i;
      if (*i == to || !std::isdigit(static_cast<unsigned char>(text_[*i])))
        fail(spec.name, step_at, "a step needs a number after '/'");
      step = number(spec, i, to);
      const int span = spec.hi - spec.lo + 1;
      if (step < 1 || step > span)
        fail(spec.name, step_at, "step " + std::to_string(step) + " is out of range 1-" + std::to_string(span));
      if (single) hi = spec.hi == 7 ? 6 : spec.hi;  // a/n: from a to the field's end
    }
    std::uint64_t bits = 0;
    for (int v = lo; v <= hi; v += step) bits |= std::uint64_t{1} << (spec.hi == 7 && v == 7 ? 0 : v);
    return bits;
  }

  int number(const FieldSpec& spec, std::size_t* i, std::size_t to) const {
    const std::size_t start = *i;
    long v = 0;
    while (*i < to && std::isdigit(static_cast<unsigned char>(text_[*i]))) {
      if (*i - start >= 4) fail(spec.name, start, "number too long");
      v = v * 10 + (text_[*i] - '0');
      ++*i;
    }
    return static_cast<int>(v);
  }

  int value(const FieldSpec& spec, std::size_t* i, std::size_t to) const {
    const std::size_t start = *i;
    const char c = text_[*i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      const int v = number(spec, i, to);
      if (v < spec.lo || v > spec.hi)
        fail(spec.name, start,
             std::to_string(v) + " is out of range " + std::to_string(spec.lo) + "-" + std::to_string(spec.hi));
      return v;
    }
    if (std::isalpha(static_cast<unsigned char>(c))) {
      while (*i < to && std::isalpha(static_cast<unsigned char>(text_[*i]))) ++*i;
      const std::string_view word = text_.substr(start, *i - start);
      if (spec.names != nullptr && word.size() == 3) {
        const int count = spec.hi == 7 ? 7 : spec.hi - spec.lo + 1;
        for (int k = 0; k < count; ++k) {
          bool same = true;
          for (int j = 0; j < 3; ++j)
            same = same && std::toupper(static_cast<unsigned char>(word[j])) == spec.names[k][j];
          if (same) return spec.lo + k;
        }
      }
      if (spec.names == nullptr) fail(spec.name, start, "names are not allowed here ('" + std::string(word) + "')");
      fail(spec.name, start,
           "unknown name '" + std::string(word) + "' (" + (spec.hi == 7 ? "SUN-SAT" : "JAN-DEC") + ")");
    }
    fail(spec.name, start, "unexpected '" + std::string(1, c) + "'");
  }

  std::string_view text_;
};

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view macro(std::string_view word) noexcept {
  if (word == "@yearly" || word == "@annually") return "0 0 1 1 *";
  if (word == "@monthly") return "0 0 1 * *";
  if (word == "@weekly") return "0 0 * * 0";
  if (word == "@daily" || word == "@midnight") return "0 0 * * *";
  if (word == "@hourly") return "0 * * * *";
  return {};
}

}  // namespace

CronExpr CronExpr::parse(std::string_view text) {
  CronExpr e;
  e.text = std::string(text);
  std::size_t b = 0, end = text.size();
  while (b < end && is_space(text[b])) ++b;
  while (end > b && is_space(text[end - 1])) --end;
  if (b == end)
    throw CronError("cron \"" + e.text + "\": expression: empty (expected 5 fields: minute hour day-of-month month "
                    "day-of-week) (position 1)",
                    "expression", 1);
  std::string_view body = text.substr(b, end - b);
  std::size_t base = b;  // offset of body in text, for positions
  if (body.front() == '@') {
    const std::string_view expanded = macro(body);
    if (expanded.empty())
      throw CronError("cron \"" + e.text + "\": expression: unknown macro '" + std::string(body) +
                          "' (@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly) (position " +
                          std::to_string(b + 1) + ")",
                      "expression", b + 1);
    CronExpr m = parse(expanded);
    m.text = e.text;
    return m;
  }
  // Split into fields, remembering where each starts.
  std::vector<std::pair<std::size_t, std::size_t>> fields;
  for (std::size_t i = 0; i < body.size();) {
    while (i < body.size() && is_space(body[i])) ++i;
    const std::size_t from = i;
    while (i < body.size() && !is_space(body[i])) ++i;
    if (i > from) fields.emplace_back(base + from, base + i);
  }
  if (fields.size() != 5) {
    const std::size_t at = fields.size() > 5 ? fields[5].first : end;
    throw CronError("cron \"" + e.text + "\": expression: expected 5 fields (minute hour day-of-month month " +
                        "day-of-week), found " + std::to_string(fields.size()) + " (position " +
                        std::to_string(at + 1) + ")",
                    "expression", at + 1);
  }
  Parser p(text);
  e.minutes = p.field(0, fields[0].first, fields[0].second);
  e.hours = static_cast<std::uint32_t>(p.field(1, fields[1].first, fields[1].second));
  e.days = static_cast<std::uint32_t>(p.field(2, fields[2].first, fields[2].second));
  e.months = static_cast<std::uint32_t>(p.field(3, fields[3].first, fields[3].second));
  e.weekdays = static_cast<std::uint32_t>(p.field(4, fields[4].first, fields[4].second));
  e.minute_star = text[fields[0].first] == '*';
  e.hour_star = text[fields[1].first] == '*';
  e.day_star = text[fields[2].first] == '*';
  e.weekday_star = text[fields[4].first] == '*';
  return e;
}

bool CronExpr::day_matches(std::int64_t days_since_epoch) const noexcept {
  const civil::Date d = civil::civil_from_days(days_since_epoch);
  const bool dom = (days >> d.day) & 1u;
  const bool dow = (weekdays >> civil::weekday_from_days(days_since_epoch)) & 1u;
  return day_star || weekday_star ? dom && dow : dom || dow;
}

std::optional<std::int64_t> CronExpr::next_match(std::int64_t local_s, std::int64_t limit_s) const noexcept {
  constexpr std::int64_t kDay = civil::kSecondsPerDay;
  std::int64_t t = civil::floor_div(local_s + 59, 60) * 60;
  while (t <= limit_s) {
    const std::int64_t day = civil::floor_div(t, kDay);
    const civil::Date date = civil::civil_from_days(day);
    if (((months >> date.month) & 1u) == 0) {
      const std::int64_t y = date.month == 12 ? date.year + 1 : date.year;
      const unsigned m = date.month == 12 ? 1 : date.month + 1;
      t = civil::days_from_civil(y, m, 1) * kDay;
      continue;
    }
    if (!day_matches(day)) {
      t = (day + 1) * kDay;
      continue;
    }
    const std::int64_t second_of_day = t - day * kDay;
    const int hour = static_cast<int>(second_of_day / 3600);
    const int minute = static_cast<int>((second_of_day % 3600) / 60);
    const std::uint32_t hours_left = hours >> hour << hour;
    if (hours_left == 0) {
      t = (day + 1) * kDay;
      continue;
    }
    const int h = std::countr_zero(hours_left);
    if (h != hour) {
      t = day * kDay + h * 3600;
      continue;
    }
    const std::uint64_t minutes_left = minute == 0 ? minutes : minutes >> minute << minute;
    if (minutes_left == 0) {
      t = day * kDay + (hour + 1) * 3600;
      continue;
    }
    return day * kDay + hour * 3600 + std::countr_zero(minutes_left) * 60;
  }
  return std::nullopt;
}

}  // namespace brisk::detail

// A strict parser of the Prometheus text exposition format 0.0.4, for tests:
// whatever it accepts, a Prometheus server accepts too. Header-only so it
// needs no build change. parse_prometheus() throws PrometheusParseError
// ("line N: why") on the first violation of:
//   * names: metric [a-zA-Z_:][a-zA-Z0-9_:]*, label [a-zA-Z_][a-zA-Z0-9_]*,
//     label names not starting with "__", no label twice in one sample;
//   * escapes: label values only \\ \" \n, HELP text only \\ \n;
//   * structure: every sample's family has a TYPE line before its first
//     sample; at most one HELP and one TYPE per family; a family's lines are
//     contiguous; no series (name + label set) appears twice; the text ends
//     with a newline;
//   * types: counter samples carry the family's name and are >= 0; gauge
//     and untyped likewise by name; histograms have only _bucket/_sum/_count,
//     per series ascending "le" bounds with nondecreasing counts, a "+Inf"
//     bucket equal to _count, and a _sum; summaries have "quantile" in [0, 1]
//     on the bare name, and _sum and _count per series.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace brisk::test {

struct PrometheusParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct PromSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // in text order, unescaped
  double value = 0;
  std::optional<std::int64_t> timestamp_ms;

  const std::string* label(std::string_view key) const {
    for (const auto& [k, v] : labels) {
      if (k == key) return &v;
    }
    return nullptr;
  }
};

struct PromFamily {
  std::string name;
  std::string type;
  std::optional<std::string> help;  // unescaped
  std::vector<PromSample> samples;
};

struct PromExposition {
  std::vector<PromFamily> families;

  const PromFamily* family(std::string_view name) const {
    for (const PromFamily& f : families) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }
};

namespace prom_detail {

inline bool name_ok(std::string_view s, bool colon_ok) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// Go's ParseFloat spellings Prometheus emits, or a plain decimal number.
inline std::optional<double> parse_float(std::string_view s) {
  if (s == "+Inf") return HUGE_VAL;
  if (s == "-Inf") return -HUGE_VAL;
  if (s == "NaN") return std::nan("");
  if (s.empty()) return std::nullopt;
  const std::string_view digits = s.front() == '+' ? s.substr(1) : s;
  if (digits.empty() || !(std::isdigit(static_cast<unsigned char>(digits.front())) || digits.front() == '-' ||
                          digits.front() == '.')) {
    return std::nullopt;  // rejects "inf", "nan", "+-1"
  }
  double v = 0;
  const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (r.ec != std::errc{} || r.ptr != digits.data() + digits.size() || std::isinf(v) || std::isnan(v)) {
    return std::nullopt;
  }
  return v;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  PromExposition run() {
    if (!text_.empty() && text_.back() != '\n') {
      fail_at(static_cast<int>(std::count(text_.begin(), text_.end(), '\n')) + 1, "last line does not end with a newline");
    }
    std::size_t pos = 0;
    while (pos < text_.size()) {
      const std::size_t nl = text_.find('\n', pos);
      ++line_no_;
      line(text_.substr(pos, nl - pos));
      pos = nl + 1;
    }
    close_family();
    return std::move(out_);
  }

 private:
  [[noreturn]] void fail(const std::string& why) const { fail_at(line_no_, why); }
  [[noreturn]] static void fail_at(int line, const std::string& why) {
    throw PrometheusParseError("line " + std::to_string(line) + ": " + why);
  }

  void line(std::string_view l) {
    if (l.empty()) return;
    if (l.front() == '#') return comment(l);
    sample(l);
  }

  void comment(std::string_view l) {
    std::string_view rest = l.substr(1);
    skip_blanks(rest);
    const std::string_view keyword = token(rest);
    if (keyword != "HELP" && keyword != "TYPE") return;  // an ordinary comment
    skip_blanks(rest);
    const std::string name(token(rest));
    if (!name_ok(name, true)) fail("invalid metric name in " + std::string(keyword) + ": '" + name + "'");
    PromFamily& f = open_family(name);
    if (keyword == "HELP") {
      if (f.help) fail("second HELP for " + name);
      if (!rest.empty() && rest.front() != ' ' && rest.front() != '\t') fail("HELP without a blank after the name");
      if (!rest.empty()) rest.remove_prefix(1);
      f.help = unescape(rest, false);
      return;
    }
    if (!f.type.empty()) fail("second TYPE for " + name);
    if (!f.samples.empty()) fail("TYPE after samples of " + name);
    skip_blanks(rest);
    const std::string type(token(rest));
    skip_blanks(rest);
    if (!rest.empty()) fail("trailing text after TYPE");
    if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" && type != "untyped") {
      fail("unknown type '" + type + "'");
    }
    f.type = type;
  }

  void sample(std::string_view l) {
    PromSample s;
    std::size_t i = 0;
    while (i < l.size() && l[i] != '{' && l[i] != ' ' && l[i] != '\t') ++i;
    s.name = std::string(l.substr(0, i));
    if (!name_ok(s.name, true)) fail("invalid metric name '" + s.name + "'");
    l.remove_prefix(i);
    if (!l.empty() && l.front() == '{') labels(l, s);
    if (l.empty() || (l.front() != ' ' && l.front() != '\t')) fail("missing blank before the value");
    skip_blanks(l);
    const std::string_view value = token(l);
    const auto v = parse_float(value);
    if (!v) fail("invalid value '" + std::string(value) + "'");
    s.value = *v;
    skip_blanks(l);
    if (!l.empty()) {
      const std::string_view ts = token(l);
      std::int64_t t = 0;
      const auto r = std::from_chars(ts.data(), ts.data() + ts.size(), t);
      if (r.ec != std::errc{} || r.ptr != ts.data() + ts.size()) fail("invalid timestamp '" + std::string(ts) + "'");
      s.timestamp_ms = t;
      skip_blanks(l);
      if (!l.empty()) fail("trailing text after the timestamp");
    }
    add(std::move(s));
  }

  void labels(std::string_view& l, PromSample& s) {
    l.remove_prefix(1);  // '{'
    while (true) {
      if (l.empty()) fail("unterminated label set");
      if (l.front() == '}') break;
      std::size_t i = 0;
      while (i < l.size() && l[i] != '=') ++i;
      const std::string key(l.substr(0, i));
      if (!name_ok(key, false) || key.starts_with("__")) fail("invalid label name '" + key + "'");
      if (s.label(key)) fail("label '" + key + "' twice in one sample");
      l.remove_prefix(i);
      if (l.size() < 2 || l[0] != '=' || l[1] != '"') fail("label '" + key + "' without =\"value\"");
      l.remove_prefix(2);
      std::size_t end = 0;
      while (end < l.size() && l[end] != '"') end += l[end] == '\\' ? 2 : 1;
      if (end >= l.size()) fail("unterminated label value");
      s.labels.emplace_back(key, unescape(l.substr(0, end), true));
      l.remove_prefix(end + 1);
      if (!l.empty() && l.front() == ',') {
        l.remove_prefix(1);
      } else if (l.empty() || l.front() != '}') {
        fail("expected ',' or '}' after a label");
      }
    }
    l.remove_prefix(1);  // '}'
  }

  std::string unescape(std::string_view s, bool label_value) const {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\\') {
        out += s[i];
        continue;
      }
      if (++i == s.size()) fail("dangling backslash");
      if (s[i] == '\\') {
        out += '\\';
      } else if (s[i] == 'n') {
        out += '\n';
      } else if (s[i] == '"' && label_value) {
        out += '"';
      } else {
        fail(std::string("invalid escape \\") + s[i]);
      }
    }
    return out;
  }

  // The family a sample name belongs to, given the family being read.
  std::string family_of(const std::string& sample_name) const {
    if (current_ != nullptr) {
      const std::string& f = current_->name;
      const std::string& t = current_->type;
      const bool hist = t == "histogram", summ = t == "summary";
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        if ((hist || (summ && std::string_view(suffix) != "_bucket")) && sample_name == f + suffix) return f;
      }
    }
    return sample_name;
  }

  PromFamily& open_family(const std::string& name) {
    if (current_ != nullptr && current_->name == name) return *current_;
    close_family();
    if (!seen_.insert(name).second) fail("lines of " + name + " are not contiguous");
    out_.families.push_back(PromFamily{name, {}, {}, {}});
    current_ = &out_.families.back();
    return *current_;
  }

  void add(PromSample s) {
    const std::string fam = family_of(s.name);
    if (current_ == nullptr || current_->name != fam) {
      if (seen_.count(fam)) fail("lines of " + fam + " are not contiguous");
      fail("sample " + s.name + " without a TYPE line");
    }
    if (current_->type.empty()) fail("sample " + s.name + " before the TYPE line of " + fam);
    const std::string& type = current_->type;
    if (!series_.insert(s.name + key(s, "")).second) fail("duplicate series " + s.name + key(s, ""));
    if (type == "counter" && !(s.value >= 0)) fail("counter " + s.name + " is negative or NaN");
    if (type == "histogram") {
      if (s.name == fam) fail("histogram sample without _bucket/_sum/_count: " + s.name);
      if (s.name == fam + "_bucket") {
        const std::string* le = s.label("le");
        if (le == nullptr) fail("histogram bucket without le");
        const auto bound = parse_float(*le);
        if (!bound || std::isnan(*bound)) fail("invalid le '" + *le + "'");
        Hist& h = hist_[key(s, "le")];
        if (h.buckets > 0 && !(*bound > h.last_le)) fail("le not ascending in " + s.name);
        if (h.buckets > 0 && s.value < h.last_count) fail("histogram buckets not cumulative in " + s.name);
        if (h.inf) fail("bucket after +Inf in " + s.name);
        h.buckets++;
        h.last_le = *bound;
        h.last_count = s.value;
        h.inf = std::isinf(*bound) && *bound > 0;
      } else if (s.label("le")) {
        fail("le label on " + s.name);
      } else if (s.name == fam + "_sum") {
        hist_[key(s, "le")].sum = true;
      } else {
        Hist& h = hist_[key(s, "le")];
        h.count = true;
        h.count_value = s.value;
      }
    } else if (type == "summary") {
      Hist& h = hist_[key(s, "quantile")];
      if (s.name == fam) {
        const std::string* q = s.label("quantile");
        if (q == nullptr) fail("summary sample without quantile: " + s.name);
        const auto qv = parse_float(*q);
        if (!qv || !(*qv >= 0 && *qv <= 1)) fail("quantile outside [0, 1]: '" + *q + "'");
      } else if (s.label("quantile")) {
        fail("quantile label on " + s.name);
      } else if (s.name == fam + "_sum") {
        h.sum = true;
      } else {
        h.count = true;
      }
    } else if (s.name != fam) {
      fail("sample " + s.name + " in " + type + " family " + fam);
    }
    current_->samples.push_back(std::move(s));
  }

  // Ends the family being read: checks its per-series histogram/summary rules.
  void close_family() {
    if (current_ == nullptr) return;
    const bool hist = current_->type == "histogram";
    for (const auto& [series, h] : hist_) {
      if (hist && !h.inf) fail("histogram " + current_->name + series + " has no +Inf bucket");
      if (hist && h.count && h.count_value != h.last_count) {
        fail("histogram " + current_->name + series + ": _count differs from the +Inf bucket");
      }
      if (!h.sum || !h.count) fail(current_->type + " " + current_->name + series + " lacks _sum or _count");
    }
    hist_.clear();
    current_ = nullptr;
  }

  // Canonical label set (sorted), without the label named `skip`.
  static std::string key(const PromSample& s, std::string_view skip) {
    std::vector<std::pair<std::string, std::string>> l;
    for (const auto& kv : s.labels) {
      if (kv.first != skip) l.push_back(kv);
    }
    std::sort(l.begin(), l.end());
    std::string k = "{";
    for (const auto& [n, v] : l) k += n + "=\"" + v + "\",";
    return k + "}";
  }

  static void skip_blanks(std::string_view& s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  }
  static std::string_view token(std::string_view& s) {
    std::size_t i = 0;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    const std::string_view t = s.substr(0, i);
    s.remove_prefix(i);
    return t;
  }

  struct Hist {
    int buckets = 0;
    double last_le = 0;
    double last_count = 0;
    bool inf = false;
    bool sum = false;
    bool count = false;
    double count_value = 0;
  };

  std::string_view text_;
  int line_no_ = 0;
  PromExposition out_;
  PromFamily* current_ = nullptr;  // stable: families only grow at the back after current_ is closed
  std::set<std::string> seen_;     // family names already opened
  std::set<std::string> series_;   // name + canonical labels, for duplicates
  std::map<std::string, Hist> hist_;  // per series of the current histogram/summary
};

}  // namespace prom_detail

inline PromExposition parse_prometheus(std::string_view text) { return prom_detail::Parser(text).run(); }

}  // namespace brisk::test

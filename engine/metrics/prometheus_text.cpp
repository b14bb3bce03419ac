#include "metrics/prometheus_text.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "metrics/latency_histogram.hpp"

namespace brisk::metrics {
namespace {

bool name_char(char c, bool first, bool colon_ok) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
  return alpha || (!first && c >= '0' && c <= '9');
}

bool valid_name(std::string_view s, bool colon_ok) {
  if (s.empty()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!name_char(s[i], i == 0, colon_ok)) return false;
  }
  return true;
}

// Go's strconv spellings, which Prometheus parses; otherwise the shortest
// text that reads back as the same double.
void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

// Label values escape backslash, double quote and newline; HELP text
// escapes only backslash and newline (the format's two escaping rules).
void append_escaped(std::string& out, std::string_view s, bool quote) {
  for (const char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void check_labels(const Labels& labels, std::string_view reserved) {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string& n = labels[i].first;
    if (!valid_label_name(n)) throw std::invalid_argument("invalid label name: " + n);
    if (n == reserved) throw std::invalid_argument("reserved label name: " + n);
    for (std::size_t j = 0; j < i; ++j) {
      if (labels[j].first == n) throw std::invalid_argument("duplicate label name: " + n);
    }
  }
}

// name{labels[,extra_name="extra_value"]} value\n
void append_sample(std::string& out, std::string_view name, const Labels& labels, std::string_view extra_name,
                   std::string_view extra_value, double value) {
  out += name;
  if (!labels.empty() || !extra_name.empty()) {
    out += '{';
    const char* sep = "";
    for (const auto& [k, v] : labels) {
      out += sep;
      out += k;
      out += "=\"";
      append_escaped(out, v, true);
      out += '"';
      sep = ",";
    }
    if (!extra_name.empty()) {
      out += sep;
      out += extra_name;
      out += "=\"";
      out += extra_value;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  append_value(out, value);
  out += '\n';
}

std::string value_text(double v) {
  std::string s;
  append_value(s, v);
  return s;
}

}  // namespace

bool valid_metric_name(std::string_view name) { return valid_name(name, true); }

// Names starting with "__" are reserved for Prometheus' internal use.
bool valid_label_name(std::string_view name) { return valid_name(name, false) && !name.starts_with("__"); }

PrometheusText::Family& PrometheusText::family(std::string_view name, std::string_view help, std::string_view type) {
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name: " + std::string(name));
  const auto [it, inserted] = index_.try_emplace(std::string(name), families_.size());
  if (inserted) {
    families_.push_back(Family{std::string(name), std::string(help), type, {}});
    return families_.back();
  }
  Family& f = families_[it->second];
  if (f.type != type || f.help != help) {
    throw std::invalid_argument("metric family redeclared with another type or help: " + std::string(name));
  }
  return f;
}

void PrometheusText::counter(std::string_view name, std::string_view help, const Labels& labels, double value) {
  if (!(value >= 0)) throw std::invalid_argument("counter must be >= 0: " + std::string(name));
  check_labels(labels, {});
  append_sample(family(name, help, "counter").samples, name, labels, {}, {}, value);
}

void PrometheusText::gauge(std::string_view name, std::string_view help, const Labels& labels, double value) {
  check_labels(labels, {});
  append_sample(family(name, help, "gauge").samples, name, labels, {}, {}, value);
}

void PrometheusText::histogram(std::string_view name, std::string_view help, const Labels& labels,
                               std::span<const PrometheusBucket> buckets, double sum, std::uint64_t count) {
  check_labels(labels, "le");
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    const bool ordered = i == 0 || (buckets[i - 1].upper_bound < buckets[i].upper_bound &&
                                    buckets[i - 1].cumulative_count <= buckets[i].cumulative_count);
    if (!ordered || !std::isfinite(buckets[i].upper_bound) || buckets[i].cumulative_count > count) {
      throw std::invalid_argument("histogram buckets not ascending and cumulative: " + std::string(name));
    }
  }
  const std::string base(name);
  std::string& out = family(name, help, "histogram").samples;
  for (const PrometheusBucket& b : buckets) {
    append_sample(out, base + "_bucket", labels, "le", value_text(b.upper_bound),
                  static_cast<double>(b.cumulative_count));
  }
  append_sample(out, base + "_bucket", labels, "le", "+Inf", static_cast<double>(count));
  append_sample(out, base + "_sum", labels, {}, {}, sum);
  append_sample(out, base + "_count", labels, {}, {}, static_cast<double>(count));
}

void PrometheusText::summary(std::string_view name, std::string_view help, const Labels& labels,
                             std::span<const PrometheusQuantile> quantiles, double sum, std::uint64_t count) {
  check_labels(labels, "quantile");
  const std::string base(name);
  std::string& out = family(name, help, "summary").samples;
  for (const PrometheusQuantile& q : quantiles) {
    if (!(q.quantile >= 0 && q.quantile <= 1)) throw std::invalid_argument("quantile outside [0, 1]: " + base);
    append_sample(out, base, labels, "quantile", value_text(q.quantile), q.value);
  }
  append_sample(out, base + "_sum", labels, {}, {}, sum);
  append_sample(out, base + "_count", labels, {}, {}, static_cast<double>(count));
}

std::string PrometheusText::str() const {
  std::string out;
  for (const Family& f : families_) {
    out += "# HELP ";
    out += f.name;
    out += ' ';
    append_escaped(out, f.help, false);
    out += "\n# TYPE ";
    out += f.name;
    out += ' ';
    out += f.type;
    out += '\n';
    out += f.samples;
  }
  return out;
}

std::vector<PrometheusBucket> seconds_buckets(const HistogramSnapshot& h, std::span<const double> upper_bounds_s) {
  std::vector<PrometheusBucket> out;
  out.reserve(upper_bounds_s.size());
  for (const double b : upper_bounds_s) {
    const double ns = std::floor(b * 1e9);
    const auto le = ns <= 0 ? 0 : ns >= static_cast<double>(kMaxTrackable) ? kMaxTrackable
                                                                           : static_cast<std::uint64_t>(ns);
    out.push_back({b, h.count_at_or_below(le)});
  }
  return out;
}

}  // namespace brisk::metrics

// PrometheusText: builds a Prometheus text exposition (format 0.0.4).
//
//   PrometheusText out;
//   out.counter("brisk_tasks_accepted_total", "Tasks accepted.", {{"type", "email"}}, 42);
//   out.gauge("brisk_queue_depth", "Tasks waiting.", {}, 7);
//   std::string body = out.str();
//
// Samples are grouped by metric family (one "# HELP" and one "# TYPE" line,
// then all its samples contiguously), whatever order the calls come in: the
// format forbids interleaving families, and snapshots are easier to walk
// per worker or per type than per metric. Names and label names are
// validated, label values and help text escaped; misuse (a bad name, a
// family re-declared with another type or help, reserved or duplicate
// labels, non-cumulative buckets) throws std::invalid_argument, because it
// is a programming error that would otherwise produce an unparsable page.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace brisk::metrics {

class HistogramSnapshot;

using Labels = std::vector<std::pair<std::string, std::string>>;

// One finite histogram bucket: samples <= upper_bound, cumulative.
struct PrometheusBucket {
  double upper_bound;
  std::uint64_t cumulative_count;
};

struct PrometheusQuantile {
  double quantile;  // in [0, 1]
  double value;
};

class PrometheusText {
 public:
  void counter(std::string_view name, std::string_view help, const Labels& labels, double value);
  void gauge(std::string_view name, std::string_view help, const Labels& labels, double value);
  // buckets: ascending finite upper bounds with nondecreasing cumulative
  // counts, none above count; the "+Inf" bucket (= count) is added here.
  void histogram(std::string_view name, std::string_view help, const Labels& labels,
                 std::span<const PrometheusBucket> buckets, double sum, std::uint64_t count);
  void summary(std::string_view name, std::string_view help, const Labels& labels,
               std::span<const PrometheusQuantile> quantiles, double sum, std::uint64_t count);

  // The exposition so far, families in first-declared order.
  std::string str() const;

 private:
  struct Family {
    std::string name;
    std::string help;
    std::string_view type;
    std::string samples;  // rendered sample lines
  };
  Family& family(std::string_view name, std::string_view help, std::string_view type);

  std::vector<Family> families_;
  std::unordered_map<std::string, std::size_t> index_;  // name -> families_ slot
};

// Buckets for a nanosecond HistogramSnapshot exposed in seconds (the
// Prometheus base unit): for each upper bound b (seconds, ascending), the
// samples at or below b. Bounds are rounded down to whole nanoseconds.
std::vector<PrometheusBucket> seconds_buckets(const HistogramSnapshot& h,
                                              std::span<const double> upper_bounds_s);

bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

}  // namespace brisk::metrics

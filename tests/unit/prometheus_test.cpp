#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

#include "metrics/latency_histogram.hpp"
#include "metrics/prometheus_text.hpp"
#include "support/prometheus_parser.hpp"

namespace brisk::metrics {
namespace {

using test::parse_prometheus;
using test::PrometheusParseError;

TEST(PrometheusText, FullExpositionParsesStrictly) {
  LatencyHistogram h;
  for (std::uint64_t v : {500u, 2'000u, 40'000u, 40'000u, 3'000'000u}) h.record(v);
  HistogramSnapshot snap;
  snap.merge(h);

  PrometheusText out;
  out.counter("brisk_tasks_accepted_total", "Tasks accepted.", {{"type", "email"}}, 42);
  out.gauge("brisk_queue_depth", "Tasks waiting \\ queued\nnow.", {}, 7);
  // A second series of the first family, after another family: grouped.
  out.counter("brisk_tasks_accepted_total", "Tasks accepted.", {{"type", "we\"ird\\\nname"}}, 1);
  const std::array<double, 4> bounds{1e-6, 1e-5, 1e-4, 1e-2};
  out.histogram("brisk_run_seconds", "Run time.", {{"type", "email"}}, seconds_buckets(snap, bounds),
                static_cast<double>(snap.sum()) / 1e9, snap.count());
  const std::array<PrometheusQuantile, 2> qs{{{0.5, 4e-5}, {0.99, 3e-3}}};
  out.summary("brisk_wait_seconds", "Queue wait.", {}, qs, 0.5, 10);

  const std::string text = out.str();
  SCOPED_TRACE(text);
  const test::PromExposition e = parse_prometheus(text);
  ASSERT_EQ(e.families.size(), 4u);
  const auto* accepted = e.family("brisk_tasks_accepted_total");
  ASSERT_NE(accepted, nullptr);
  EXPECT_EQ(accepted->type, "counter");
  ASSERT_EQ(accepted->samples.size(), 2u);
  EXPECT_EQ(accepted->samples[0].value, 42);
  EXPECT_EQ(*accepted->samples[1].label("type"), "we\"ird\\\nname");
  EXPECT_EQ(*e.family("brisk_queue_depth")->help, "Tasks waiting \\ queued\nnow.");

  const auto* run = e.family("brisk_run_seconds");
  ASSERT_NE(run, nullptr);
  ASSERT_EQ(run->samples.size(), 7u);  // 4 buckets + +Inf + sum + count
  EXPECT_EQ(*run->samples[0].label("le"), "1e-06");
  EXPECT_EQ(run->samples[0].value, 1);  // 500 ns
  EXPECT_EQ(run->samples[1].value, 2);  // + 2 us
  EXPECT_EQ(run->samples[2].value, 4);  // + 2 x 40 us
  EXPECT_EQ(run->samples[3].value, 5);  // + 3 ms
  EXPECT_EQ(*run->samples[4].label("le"), "+Inf");
  EXPECT_EQ(run->samples[6].name, "brisk_run_seconds_count");
  EXPECT_EQ(run->samples[6].value, 5);
  EXPECT_EQ(e.family("brisk_wait_seconds")->samples.size(), 4u);
}

TEST(PrometheusText, SpecialValuesAndEmptyOutput) {
  EXPECT_EQ(PrometheusText{}.str(), "");
  PrometheusText out;
  out.gauge("g", "h", {}, std::nan(""));
  out.gauge("g", "h", {{"x", "1"}}, -HUGE_VAL);
  out.gauge("g", "h", {{"x", "2"}}, 0.1);
  EXPECT_EQ(out.str(), "# HELP g h\n# TYPE g gauge\ng NaN\ng{x=\"1\"} -Inf\ng{x=\"2\"} 0.1\n");
  EXPECT_NO_THROW(parse_prometheus(out.str()));
}

TEST(PrometheusText, RejectsMisuse) {
  PrometheusText out;
  EXPECT_THROW(out.counter("1bad", "h", {}, 1), std::invalid_argument);
  EXPECT_THROW(out.counter("bad-name", "h", {}, 1), std::invalid_argument);
  EXPECT_THROW(out.counter("ok", "h", {{"__reserved", "v"}}, 1), std::invalid_argument);
  EXPECT_THROW(out.counter("ok", "h", {{"a:b", "v"}}, 1), std::invalid_argument);
  EXPECT_THROW(out.counter("ok", "h", {{"a", "1"}, {"a", "2"}}, 1), std::invalid_argument);
  EXPECT_THROW(out.counter("ok", "h", {}, -1), std::invalid_argument);
  out.counter("ok", "h", {}, 1);
  EXPECT_THROW(out.gauge("ok", "h", {}, 1), std::invalid_argument);
  EXPECT_THROW(out.counter("ok", "other help", {}, 1), std::invalid_argument);
  const std::array<PrometheusBucket, 2> backwards{{{2, 1}, {1, 1}}};
  EXPECT_THROW(out.histogram("h1", "h", {}, backwards, 0, 1), std::invalid_argument);
  const std::array<PrometheusBucket, 2> shrinking{{{1, 2}, {2, 1}}};
  EXPECT_THROW(out.histogram("h2", "h", {}, shrinking, 0, 2), std::invalid_argument);
  const std::array<PrometheusBucket, 1> over{{{1, 3}}};
  EXPECT_THROW(out.histogram("h3", "h", {}, over, 0, 2), std::invalid_argument);
  EXPECT_THROW(out.histogram("h4", "h", {{"le", "1"}}, {}, 0, 0), std::invalid_argument);
  const std::array<PrometheusQuantile, 1> q{{{1.5, 0}}};
  EXPECT_THROW(out.summary("s1", "h", {}, q, 0, 0), std::invalid_argument);
  EXPECT_NO_THROW(parse_prometheus(out.str()));
}

TEST(PrometheusParser, AcceptsValidVariants) {
  const char* text =
      "# a plain comment\n"
      "\n"
      "# TYPE up untyped\n"
      "up 1 1700000000000\n"
      "# TYPE http_requests_total counter\n"
      "# HELP http_requests_total The total.\n"
      "http_requests_total{method=\"post\",code=\"200\",} 1027\n"
      "http_requests_total{code=\"400\",method=\"post\"}\t3\n"
      "# TYPE lat histogram\n"
      "lat_bucket{le=\"0.5\"} 1\n"
      "lat_bucket{le=\"+Inf\"} 2\n"
      "lat_sum 1.5e0\n"
      "lat_count 2\n";
  const auto e = parse_prometheus(text);
  EXPECT_EQ(e.families.size(), 3u);
  EXPECT_EQ(e.family("up")->samples[0].timestamp_ms, 1700000000000);
}

struct Bad {
  const char* why;
  const char* text;
};

TEST(PrometheusParser, RejectsMalformedInput) {
  const Bad cases[] = {
      {"no trailing newline", "# TYPE a gauge\na 1"},
      {"sample without TYPE", "a 1\n"},
      {"bad metric name", "# TYPE 0a gauge\n0a 1\n"},
      {"bad sample name", "# TYPE a gauge\na-b 1\n"},
      {"bad label name", "# TYPE a gauge\na{0x=\"1\"} 1\n"},
      {"reserved label name", "# TYPE a gauge\na{__name__=\"1\"} 1\n"},
      {"bad escape in label", "# TYPE a gauge\na{x=\"\\t\"} 1\n"},
      {"bad escape in help", "# HELP a tab\\t\n# TYPE a gauge\na 1\n"},
      {"unterminated label value", "# TYPE a gauge\na{x=\"1} 1\n"},
      {"unquoted label value", "# TYPE a gauge\na{x=1} 1\n"},
      {"duplicate label", "# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n"},
      {"missing value", "# TYPE a gauge\na\n"},
      {"bad value", "# TYPE a gauge\na one\n"},
      {"lowercase inf", "# TYPE a gauge\na inf\n"},
      {"bad timestamp", "# TYPE a gauge\na 1 1.5\n"},
      {"trailing text", "# TYPE a gauge\na 1 2 3\n"},
      {"unknown type", "# TYPE a meter\na 1\n"},
      {"two TYPEs", "# TYPE a gauge\n# TYPE a gauge\na 1\n"},
      {"two HELPs", "# HELP a x\n# HELP a y\n# TYPE a gauge\na 1\n"},
      {"family reopened", "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n"},
      {"duplicate series", "# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n"},
      {"duplicate series, labels reordered", "# TYPE a gauge\na{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n"},
      {"interleaved families", "# TYPE a gauge\n# TYPE b gauge\nb 1\na 1\n"},
      {"negative counter", "# TYPE a_total counter\na_total -1\n"},
      {"counter sample of another name", "# TYPE a counter\na_total 1\n"},
      {"histogram without +Inf",
       "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"},
      {"histogram not cumulative",
       "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n"},
      {"histogram le descending",
       "# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"},
      {"histogram count != +Inf", "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n"},
      {"histogram without _sum", "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n"},
      {"histogram bucket without le", "# TYPE h histogram\nh_bucket 2\nh_sum 1\nh_count 2\n"},
      {"bare histogram sample", "# TYPE h histogram\nh 2\n"},
      {"summary quantile out of range", "# TYPE s summary\ns{quantile=\"2\"} 1\ns_sum 1\ns_count 1\n"},
      {"summary without quantile", "# TYPE s summary\ns 1\ns_sum 1\ns_count 1\n"},
      {"summary without _count", "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\n"},
  };
  for (const Bad& b : cases) {
    EXPECT_THROW(parse_prometheus(b.text), PrometheusParseError) << b.why;
  }
}

}  // namespace
}  // namespace brisk::metrics

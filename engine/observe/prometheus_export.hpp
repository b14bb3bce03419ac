// Renders an engine snapshot as Prometheus text exposition (version 0.0.4).
#pragma once

#include <string>

#include "brisk/stats.hpp"
#include "metrics/latency_histogram.hpp"

namespace brisk::detail {

struct EngineHistograms {
  metrics::HistogramSnapshot queue_wait;
  metrics::HistogramSnapshot run_time;
};

std::string render_prometheus(const EngineStats& stats, const EngineHistograms& histograms);

}  // namespace brisk::detail

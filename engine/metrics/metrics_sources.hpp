// Metrics sources: text in the Prometheus exposition format that a
// component outside the engine (brisk::cluster's worker, a host service)
// adds to what Engine::prometheus_text() and /metrics serve.
//
// Only the scrape path and registration touch it, never a task, so a mutex
// is the right tool: it is held while the sources render, which lets
// remove() promise that its source is not running and will not run again
// once it returns (the component may then be destroyed). The price: a
// source must not add or remove sources, and a slow source delays the
// scrape (not the engine).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace brisk::metrics {

class MetricsSources {
 public:
  using Source = std::function<std::string()>;

  std::uint64_t add(Source source) {
    std::lock_guard lock(mutex_);
    sources_.emplace_back(++last_id_, std::move(source));
    return last_id_;
  }

  // Returns once `id` is not rendering and never will again; unknown ids
  // (removed already, or 0) are ignored.
  void remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    std::erase_if(sources_, [id](const auto& s) { return s.first == id; });
  }

  // Appends every source's text, each ending in a newline.
  void render(std::string& out) const {
    std::lock_guard lock(mutex_);
    for (const auto& s : sources_) {
      std::string text = s.second();
      if (text.empty()) continue;
      out += text;
      if (out.back() != '\n') out += '\n';
    }
  }

 private:
  mutable std::mutex mutex_;
  std::uint64_t last_id_ = 0;
  std::vector<std::pair<std::uint64_t, Source>> sources_;
};

}  // namespace brisk::metrics

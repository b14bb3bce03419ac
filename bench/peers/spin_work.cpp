#include "spin_work.hpp"

#include <algorithm>
#include <cmath>

#include "timing.hpp"

namespace peers {

std::uint64_t spin_iterations_for(double ns) {
  constexpr std::uint64_t kProbe = 2'000'000;
  double best_ns_per_iter = 1e9;
  for (int round = 0; round < 7; ++round) {
    const std::int64_t t0 = now_ns();
    spin(kProbe);
    const double per = static_cast<double>(now_ns() - t0) / kProbe;
    best_ns_per_iter = std::min(best_ns_per_iter, per);
  }
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(ns / best_ns_per_iter)));
}

}  // namespace peers

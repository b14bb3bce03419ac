// LaneSchedule: which priority lane a worker tries first, pick by pick.
//
// Smooth weighted round robin (the nginx upstream algorithm) laid out once
// into a cycle: for weights 8:4:1 the 13-pick cycle gives lane 0 eight picks,
// lane 1 four and lane 2 one, interleaved rather than in runs. A worker walks
// the cycle with a private cursor; when the lane it lands on is empty it falls
// back to the others in priority order, so the schedule only decides shares
// under saturation and never leaves a worker idle while any lane has work.
#pragma once

#include <cstdint>
#include <vector>

namespace brisk::detail {

class LaneSchedule {
 public:
  explicit LaneSchedule(const std::vector<unsigned>& weights) {
    std::vector<long> current(weights.size(), 0);
    long total = 0;
    for (unsigned w : weights) total += w;
    for (long pick = 0; pick < total; ++pick) {
      std::size_t best = 0;
      for (std::size_t lane = 0; lane < weights.size(); ++lane) {
        current[lane] += weights[lane];
        if (current[lane] > current[best]) best = lane;
      }
      current[best] -= total;
      cycle_.push_back(static_cast<std::uint8_t>(best));
    }
  }

  std::size_t length() const noexcept { return cycle_.size(); }
  std::uint8_t lane_at(std::size_t cursor) const noexcept { return cycle_[cursor]; }

 private:
  std::vector<std::uint8_t> cycle_;
};

}  // namespace brisk::detail

#include "plan.hpp"

#include <string>

namespace peers {

Plan make_plan(bool short_mode, std::uint64_t spin_1us, std::uint64_t spin_10us) {
  // Full sizes give each measured run roughly 0.1-2 s on the slowest peer.
  const std::uint64_t k = short_mode ? 100 : 1;  // short mode divides sizes by this
  Plan p;
  p.throughput = {
      {"empty_1p", "empty tasks, 1 producer", Kind::empty, 2'000'000 / k, 1, 0, 0},
      {"empty_2p", "empty tasks, 2 producers", Kind::empty, 2'000'000 / k, 2, 0, 0},
      {"bulk", "empty tasks, bulk submit (1024)", Kind::bulk, 2'000'000 / k, 1, 0, 0},
      {"work_1us", "1 us tasks, 1 producer", Kind::work, 200'000 / k, 1, spin_1us, 0},
      {"work_10us", "10 us tasks, 1 producer", Kind::work, 20'000 / k, 1, spin_10us, 0},
      {"fanout", "fan-out, 1 root : 16 children", Kind::fanout, 100'000 / k, 1, 0, 0},
  };
  for (std::size_t bytes : {8, 32, 48, 64, 256}) {
    p.throughput.push_back({"payload_" + std::to_string(bytes), std::to_string(bytes) + "-byte capture, 1 producer",
                            Kind::payload, 1'000'000 / k, 1, 0, bytes});
  }
  // Long enough for >= 10k samples per run at every rate (a p99.9 needs them).
  const double scale = short_mode ? 0.02 : 1.0;
  p.latency = {{10'000, 2.0 * scale}, {100'000, 1.0 * scale}, {1'000'000, 0.5 * scale}};
  p.scaling = short_mode ? std::vector<std::uint64_t>{10'000, 100'000}
                         : std::vector<std::uint64_t>{100'000, 1'000'000, 10'000'000, 100'000'000};
  p.ping_pong_trips = short_mode ? 10'000 : 1'000'000;
  p.ping_pong_runs = short_mode ? 1 : 5;
  p.fdatasync_appends = short_mode ? 20 : 1000;
  p.write_mib = short_mode ? 8 : 256;
  return p;
}

}  // namespace peers

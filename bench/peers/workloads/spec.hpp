// One throughput workload: what the producers submit and how much of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace peers {

enum class Kind {
  empty,    // []{} from `producers` threads, one post() each
  bulk,     // []{} in batches through post_bulk()
  work,     // each task spins `spin_iters` (about 1 or 10 us)
  fanout,   // each root task spawns 16 children
  payload,  // a task capturing `payload` bytes by value
};

struct Spec {
  std::string id;          // stable key in the JSON and the plots
  std::string title;       // for the table
  Kind kind = Kind::empty;
  std::uint64_t tasks = 0;  // tasks the producers submit (roots for fanout)
  unsigned producers = 1;
  std::uint64_t spin_iters = 0;
  std::size_t payload = 0;
};

}  // namespace peers

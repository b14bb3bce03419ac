// Clock, pause and back-off shared by workloads and adapters, so every system
// is timed and waited on the same way.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

#include "clock.hpp"

namespace peers {

using bench_common::cpu_pause;
using bench_common::now_ns;

// Waiting for a condition another thread will make true: yield a while (the
// waiter may share a core with the workers), then sleep briefly. This mirrors
// brisk's own drain(), so "wait until idle" costs every system the same.
class Backoff {
 public:
  void wait() {
    if (++rounds_ < 64) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

 private:
  unsigned rounds_ = 0;
};

}  // namespace peers

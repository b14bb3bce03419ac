// A busy host: N ordinary threads (normal priority, not pinned) that burn CPU
// beside the system under test, standing in for the request threads of the
// service that embeds it (issue 22). Every system gets the same N, started
// before its instance is built and stopped after it is destroyed.
#pragma once

#include <atomic>
#include <thread>
#include <vector>

#include "spin_work.hpp"

namespace peers {

class BusyHost {
 public:
  explicit BusyHost(unsigned threads) {
    for (unsigned i = 0; i < threads; ++i) {
      threads_.emplace_back([this] {
        // relaxed: a plain stop flag; the join below orders everything else.
        while (!stop_.load(std::memory_order_relaxed)) spin(10'000);  // ~10 us of multiply chain
      });
    }
  }
  BusyHost(const BusyHost&) = delete;
  BusyHost& operator=(const BusyHost&) = delete;
  ~BusyHost() {
    stop_.store(true, std::memory_order_relaxed);
    for (std::thread& t : threads_) t.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace peers

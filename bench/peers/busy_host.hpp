// A busy host: N ordinary threads (normal priority, not pinned) that burn CPU
// beside the system under test, standing in for the request threads of the
// service that embeds it (issue 22). Every system gets the same N, started
// before its instance is built and stopped after it is destroyed. cpus()
// says how much CPU they got meanwhile: a system that leaves the host's
// threads less has taken it for itself.
#pragma once

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
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
        timespec t{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        cpu_ns_.fetch_add(static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(t.tv_nsec),
                          std::memory_order_relaxed);
      });
    }
  }
  BusyHost(const BusyHost&) = delete;
  BusyHost& operator=(const BusyHost&) = delete;
  ~BusyHost() { stop(); }

  // Stops the threads; returns the CPUs' worth of time they got since the
  // start (CPU time / wall time; 0 without threads).
  double stop() {
    if (!threads_.empty() && !stop_.exchange(true, std::memory_order_relaxed)) {
      for (std::thread& t : threads_) t.join();
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      cpus_ = wall > 0 ? static_cast<double>(cpu_ns_.load(std::memory_order_relaxed)) / 1e9 / wall : 0;
    }
    return cpus_;
  }

 private:
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> cpu_ns_{0};  // the threads' CPU time, added as each ends
  double cpus_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace peers

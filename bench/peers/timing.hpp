// Clock, pause and back-off shared by workloads and adapters, so every system
// is timed and waited on the same way.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

namespace peers {

inline std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline void cpu_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

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

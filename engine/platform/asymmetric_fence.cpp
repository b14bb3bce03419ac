#include "platform/asymmetric_fence.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#if defined(__linux__)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace brisk::detail {

namespace {

// Set once, false to true, before any thread that pairs fences can run
// (init_asymmetric_fences() is called in the constructor of what they
// share): relaxed loads see it. A light fence that reads false is a full
// fence, correct with either heavy one.
std::atomic<bool> expedited{false};

}  // namespace

void init_asymmetric_fences() noexcept {
#if defined(__linux__) && defined(__NR_membarrier)
  static std::once_flag once;
  std::call_once(once, [] {
    const long supported = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (supported < 0 || (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return;
    if (syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0) return;
    expedited.store(true, std::memory_order_relaxed);
  });
#endif
}

void light_fence() noexcept {
  if (expedited.load(std::memory_order_relaxed)) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}

void heavy_fence() noexcept {
#if defined(__linux__) && defined(__NR_membarrier)
  if (expedited.load(std::memory_order_relaxed)) {
    // Registered, so it cannot fail for want of permission; if it still
    // did, light fences that counted on it have gone unordered: waiters
    // could miss a finish. Say so and stop rather than run on wrong.
    if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
      std::fputs("brisk: membarrier(PRIVATE_EXPEDITED) failed after registering; aborting\n", stderr);
      std::abort();
    }
    return;
  }
#endif
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

}  // namespace brisk::detail

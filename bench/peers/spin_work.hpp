// Calibrated CPU work for the "1 us" and "10 us" tasks: a dependent
// multiply-add chain the compiler can neither fold nor vectorise.
#pragma once

#include <cstdint>

namespace peers {

inline void spin(std::uint64_t iterations) noexcept {
  std::uint64_t x = iterations;
  for (std::uint64_t i = 0; i < iterations; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    asm volatile("" : "+r"(x));  // keeps every iteration
  }
}

// Iterations of spin() that take about `ns` nanoseconds on this machine
// (best of several timings, so a preempted sample does not inflate it).
std::uint64_t spin_iterations_for(double ns);

}  // namespace peers

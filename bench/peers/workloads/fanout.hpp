// Fan-out: one producer posts root tasks; each root spawns kChildren children
// from inside the task (the worker-side submit path). Completions of roots and
// children are counted and checked, and all of them make the throughput.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>

#include "systems/thread_counters.hpp"
#include "timing.hpp"

namespace peers {

inline constexpr unsigned kChildren = 16;

template <class S>
double fan_out(S& sys, std::uint64_t roots) {
  ThreadCounters completed;
  ThreadCounters* counter = &completed;
  S* system = &sys;
  auto root = [system, counter] {
    for (unsigned c = 0; c < kChildren; ++c) system->spawn([counter] { counter->add(1); });
    counter->add(1);
  };
  const std::int64_t t0 = now_ns();
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < roots; ++i) sys.post(root);
  });
  producer.join();
  sys.wait_idle();
  const std::int64_t elapsed = now_ns() - t0;
  const std::uint64_t expected = roots * (kChildren + 1);
  if (completed.sum() != expected) {
    throw std::runtime_error("fan-out: " + std::to_string(completed.sum()) + " completions, expected " +
                             std::to_string(expected));
  }
  return static_cast<double>(expected) * 1e9 / static_cast<double>(elapsed);
}

}  // namespace peers

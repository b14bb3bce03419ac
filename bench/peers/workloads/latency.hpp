// Submit-to-start latency at a fixed offered rate (open loop).
//
// A pacing producer posts task i at t0 + i/rate, stamping steady_clock time in
// the closure; the task stores now - stamp in its own preallocated slot (no
// shared write, no allocation while measuring). Percentiles come from sorting
// all slots. If the producer cannot keep the schedule (the system pushes back
// or posting is too slow) or the backlog takes long to drain, the run is
// marked unsustained: its percentiles describe a system that fell behind.
#pragma once

#include <sys/prctl.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <thread>
#include <utility>
#include <vector>

#include "run_config.hpp"
#include "timing.hpp"

namespace peers {

struct LatencySpec {
  double rate = 0;     // offered tasks per second
  double seconds = 0;  // length of the measured run
};

struct LatencyRun {
  double offered = 0;          // tasks/s asked for
  double achieved = 0;         // tasks/s the producer managed to post
  double drain_ms = 0;         // from the last post to idle
  bool sustained = false;
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  std::vector<std::pair<double, double>> cdf;  // (fraction, us), for plots
};

// A run is sustained when the producer stayed within 5% of its schedule and
// the queue emptied within 1 ms of the last post (a backlog that grew during
// the run takes longer than that to drain).
inline constexpr double kScheduleSlack = 1.05;
inline constexpr double kDrainLimitMs = 1.0;

LatencyRun summarize(std::vector<std::int64_t>& latencies_ns, double offered, double post_seconds,
                     double drain_ms);

// Waits for `deadline`: sleeps while it is far (with timer slack at 1 ns so
// the sleep is precise), yields while it is near so a worker sharing this core
// can run, and spins the last microseconds.
inline void pace_until(std::int64_t deadline) {
  for (std::int64_t left; (left = deadline - now_ns()) > 0;) {
    if (left > 80'000) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(left - 60'000));
    } else if (left > 5'000) {
      std::this_thread::yield();
    } else {
      cpu_pause();
    }
  }
}

template <class S>
LatencyRun measure_latency(S& sys, const LatencySpec& spec) {
  const auto n = static_cast<std::size_t>(std::llround(spec.rate * spec.seconds));
  std::vector<std::int64_t> latencies(n, -1);
  const double period_ns = 1e9 / spec.rate;
  std::int64_t t0 = 0;
  std::int64_t post_end = 0;
  std::thread producer([&] {
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    t0 = now_ns() + 1'000'000;  // start on a clean millisecond after thread start-up
    for (std::size_t i = 0; i < n; ++i) {
      pace_until(t0 + static_cast<std::int64_t>(static_cast<double>(i) * period_ns));
      std::int64_t* slot = &latencies[i];
      const std::int64_t stamp = now_ns();
      sys.post([slot, stamp] { *slot = now_ns() - stamp; });
    }
    post_end = now_ns();
  });
  producer.join();
  sys.wait_idle();
  const double drain_ms = static_cast<double>(now_ns() - post_end) / 1e6;
  return summarize(latencies, spec.rate, static_cast<double>(post_end - t0) / 1e9, drain_ms);
}

// A fresh instance, a discarded warm-up at a quarter of the length, then the
// measured run.
template <class S>
LatencyRun run_latency(const LatencySpec& spec, const RunConfig& run) {
  S sys(run);
  measure_latency(sys, LatencySpec{spec.rate, spec.seconds / 4});
  return measure_latency(sys, spec);
}

}  // namespace peers

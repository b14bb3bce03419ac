#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "clock.hpp"
#include "ping_pong.hpp"

namespace bench_common {

namespace {

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

// The two allowed CPUs furthest apart in the list (0 and 1 on this machine).
std::pair<int, int> two_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof set, &set);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  }
  if (cpus.size() < 2) return {cpus.front(), cpus.front()};
  return {cpus.front(), cpus.back()};
}

double one_run(std::uint64_t round_trips, int cpu_a, int cpu_b) {
  alignas(64) std::atomic<std::uint64_t> ball{0};
  std::thread other([&] {
    pin_to(cpu_b);
    for (std::uint64_t i = 0; i < round_trips; ++i) {
      while (ball.load(std::memory_order_acquire) != 2 * i + 1) cpu_pause();
      ball.store(2 * i + 2, std::memory_order_release);
    }
  });
  pin_to(cpu_a);
  const std::int64_t t0 = now_ns();
  for (std::uint64_t i = 0; i < round_trips; ++i) {
    ball.store(2 * i + 1, std::memory_order_release);
    while (ball.load(std::memory_order_acquire) != 2 * i + 2) cpu_pause();
  }
  const std::int64_t elapsed = now_ns() - t0;
  other.join();
  return static_cast<double>(elapsed) / static_cast<double>(round_trips);
}

}  // namespace

PingPong cache_line_ping_pong(std::uint64_t round_trips, int runs) {
  const auto [a, b] = two_cpus();
  std::vector<double> samples;
  std::thread runner([&] {  // a helper thread, so main()'s affinity is left alone
    for (int r = 0; r < runs; ++r) samples.push_back(one_run(round_trips, a, b));
  });
  runner.join();
  std::sort(samples.begin(), samples.end());
  return {samples[samples.size() / 2], samples.front(), samples.back()};
}

}  // namespace bench_common

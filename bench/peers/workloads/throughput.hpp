// Producer-driven throughput: empty tasks from 1..n producers, bulk submit,
// calibrated work and captured payloads. Timed from the moment the producers
// are released until wait_idle() returns, so a system is credited only for
// tasks it has run, not merely queued.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

#include "timing.hpp"

namespace peers {

// Starts `producers` threads that together post `tasks` copies of `task`,
// and returns tasks per second.
template <class S, class F>
double produce(S& sys, std::uint64_t tasks, unsigned producers, const F& task) {
  std::atomic<unsigned> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (unsigned p = 0; p < producers; ++p) {
    const std::uint64_t share = tasks / producers + (p == 0 ? tasks % producers : 0);
    threads.emplace_back([&, share] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) cpu_pause();
      for (std::uint64_t i = 0; i < share; ++i) sys.post(task);
    });
  }
  while (ready.load() != producers) std::this_thread::yield();
  const std::int64_t t0 = now_ns();
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
  sys.wait_idle();
  return static_cast<double>(tasks) * 1e9 / static_cast<double>(now_ns() - t0);
}

// One producer submitting empty tasks in batches of kBatch.
template <class S>
double produce_bulk(S& sys, std::uint64_t tasks) {
  constexpr std::size_t kBatch = 1024;
  auto empty = [] {};
  const std::vector<decltype(empty)> batch(kBatch, empty);
  const std::int64_t t0 = now_ns();
  std::thread producer([&] {
    for (std::uint64_t done = 0; done < tasks; done += kBatch) {
      const auto n = static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(kBatch, tasks - done));
      sys.post_bulk(batch.begin(), batch.begin() + n);
    }
  });
  producer.join();
  sys.wait_idle();
  return static_cast<double>(tasks) * 1e9 / static_cast<double>(now_ns() - t0);
}

// A task carrying N bytes by value; running it reads the last byte so the
// copy is real.
template <std::size_t N>
struct Payload {
  std::array<unsigned char, N> bytes{};
  void operator()() const { asm volatile("" : : "r"(bytes[N - 1])); }
};

template <class S>
double produce_payload(S& sys, std::uint64_t tasks, std::size_t bytes) {
  switch (bytes) {
    case 8: return produce(sys, tasks, 1, Payload<8>{});
    case 32: return produce(sys, tasks, 1, Payload<32>{});
    case 48: return produce(sys, tasks, 1, Payload<48>{});
    case 64: return produce(sys, tasks, 1, Payload<64>{});
    case 256: return produce(sys, tasks, 1, Payload<256>{});
    default: throw std::invalid_argument("payload sizes are 8, 32, 48, 64 or 256 bytes");
  }
}

}  // namespace peers

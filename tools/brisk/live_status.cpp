#include "brisk/live_status.hpp"

#include <unistd.h>

#include <cstdio>

#include "brisk/engine.hpp"

namespace brisk::tools {

namespace {

// "1.23 M", "45.6 k", "789": rates span six orders of magnitude.
void print_si(double v) {
  if (v >= 1e6) {
    std::printf("%.2f M", v / 1e6);
  } else if (v >= 1e3) {
    std::printf("%.1f k", v / 1e3);
  } else {
    std::printf("%.0f", v);
  }
}

}  // namespace

LiveStatus::LiveStatus(const Engine& engine, std::chrono::milliseconds period) : engine_(engine), period_(period) {
  if (isatty(fileno(stdout))) thread_ = std::thread([this] { run(); });
}

LiveStatus::~LiveStatus() { stop(); }

void LiveStatus::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (!thread_.joinable()) return;
  thread_.join();
  std::printf("\r\x1b[K");  // erase the status so the next output starts on a clean line
  std::fflush(stdout);
}

void LiveStatus::run() {
  using SteadyClock = std::chrono::steady_clock;
  EngineStats last = engine_.stats();
  auto last_at = SteadyClock::now();
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, period_, [this] { return stopping_; })) {
    const EngineStats s = engine_.stats();
    const auto at = SteadyClock::now();
    const double secs = std::chrono::duration<double>(at - last_at).count();
    const double rate = secs > 0 ? static_cast<double>(s.executed - last.executed) / secs : 0;
    std::printf("\r  ");
    print_si(rate);
    std::printf(" tasks/s | queue-wait p99 %.1f us | depth %llu | credits %lld/%lld\x1b[K",
                static_cast<double>(s.queue_wait.p99_ns) / 1e3, static_cast<unsigned long long>(s.queued),
                static_cast<long long>(s.credits_outstanding), static_cast<long long>(s.credits_capacity));
    std::fflush(stdout);
    last = s;
    last_at = at;
  }
}

}  // namespace brisk::tools

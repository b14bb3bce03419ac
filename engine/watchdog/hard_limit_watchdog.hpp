// HardLimitWatchdog: a thread that periodically asks the engine to enforce
// hard time limits (EngineCore::enforce_hard_limits). Started only when some
// task type has a hard_timeout; it sleeps between checks, so it costs one
// wake-up per period.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace brisk::detail {

class HardLimitWatchdog {
 public:
  HardLimitWatchdog(std::chrono::nanoseconds period, std::function<void()> check)
      : period_(period), check_(std::move(check)) {}
  ~HardLimitWatchdog() { stop(); }

  void start() {
    thread_ = std::thread([this] {
      std::unique_lock lock(mutex_);
      while (!stopping_) {
        if (wake_.wait_for(lock, period_, [this] { return stopping_; })) break;
        lock.unlock();
        check_();
        lock.lock();
      }
    });
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  const std::chrono::nanoseconds period_;
  const std::function<void()> check_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace brisk::detail

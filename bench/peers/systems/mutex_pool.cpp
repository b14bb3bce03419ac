// The baseline everyone writes: one FIFO deque behind a std::mutex, workers
// sleeping on a condition_variable. Fair: one queue, taken in order, one task
// at a time. Bulk pushes a whole batch under one lock.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "systems/system_entry.hpp"

namespace peers {
namespace {

class MutexPool {
 public:
  static constexpr std::string_view kName = "mutex-cv";

  explicit MutexPool(const RunConfig& run) {
    for (unsigned i = 0; i < run.threads; ++i) workers_.emplace_back([this] { work(); });
  }

  ~MutexPool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& w : workers_) w.join();
  }

  template <class F>
  void post(F f) {
    bool wake;
    {
      std::lock_guard lock(mutex_);
      queue_.emplace_back(std::move(f));
      wake = sleeping_ != 0;
    }
    // Only pay for a notify when a worker sleeps.
    if (wake) work_cv_.notify_one();
  }

  template <class F>
  void spawn(F f) { post(std::move(f)); }

  template <class It>
  void post_bulk(It first, It last) {
    bool wake;
    {
      std::lock_guard lock(mutex_);
      for (; first != last; ++first) queue_.emplace_back(*first);
      wake = sleeping_ != 0;
    }
    if (wake) work_cv_.notify_all();
  }

  void wait_idle() {
    std::unique_lock lock(mutex_);
    idle_cv_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
  }

 private:
  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      while (queue_.empty() && !stop_) {
        ++sleeping_;
        work_cv_.wait(lock);
        --sleeping_;
      }
      if (queue_.empty()) return;  // stopping and nothing left
      std::function<void()> task = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
      lock.unlock();
      task();
      lock.lock();
      --running_;
      if (queue_.empty() && running_ == 0) idle_cv_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> queue_;
  unsigned sleeping_ = 0;
  unsigned running_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace

SystemEntry mutex_pool_entry() { return make_entry<MutexPool>(); }

}  // namespace peers

// A thread pool on moodycamel::BlockingConcurrentQueue: workers dequeue in
// batches of 64 (the queue's strength), producers use enqueue_bulk for bulk.
#include <atomic>
#include <chrono>
#include <concurrentqueue/blockingconcurrentqueue.h>
#include <functional>
#include <thread>
#include <vector>

#include "systems/completion_tally.hpp"
#include "systems/system_entry.hpp"

namespace peers {
namespace {

class MoodycamelPool {
 public:
  static constexpr std::string_view kName = "moodycamel";

  explicit MoodycamelPool(const RunConfig& run) {
    for (unsigned i = 0; i < run.threads; ++i) workers_.emplace_back([this] { work(); });
  }

  ~MoodycamelPool() {
    stop_.store(true, std::memory_order_relaxed);
    for (auto& w : workers_) w.join();
  }

  template <class F>
  void post(F f) {
    tally_.posted(1);
    queue_.enqueue(Task(tally_.counted(f)));
  }

  template <class F>
  void spawn(F f) { post(f); }

  template <class It>
  void post_bulk(It first, It last) {
    std::vector<Task> batch;
    batch.reserve(static_cast<std::size_t>(last - first));
    for (; first != last; ++first) batch.emplace_back(tally_.counted(*first));
    tally_.posted(batch.size());
    queue_.enqueue_bulk(std::make_move_iterator(batch.begin()), batch.size());
  }

  void wait_idle() { tally_.wait_idle(); }

 private:
  using Task = std::function<void()>;

  void work() {
    moodycamel::ConsumerToken token(queue_);
    Task batch[64];
    while (!stop_.load(std::memory_order_relaxed)) {
      // The timeout only bounds how long stop() waits; work wakes it at once.
      const std::size_t n = queue_.wait_dequeue_bulk_timed(token, batch, 64, std::chrono::milliseconds(1));
      for (std::size_t i = 0; i < n; ++i) {
        batch[i]();
        batch[i] = nullptr;
      }
    }
  }

  moodycamel::BlockingConcurrentQueue<Task> queue_;
  CompletionTally tally_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
};

}  // namespace

SystemEntry moodycamel_entry() { return make_entry<MoodycamelPool>(); }

}  // namespace peers

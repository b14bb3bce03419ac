// "Wait until idle" for peers whose API has no such call (task_arena::enqueue,
// asio::thread_pool short of join(), a moodycamel pool): count posted and
// finished tasks in per-thread counters and wait until the sums meet.
#pragma once

#include <cstdint>

#include "systems/thread_counters.hpp"
#include "timing.hpp"

namespace peers {

class CompletionTally {
 public:
  // Call before handing the task(s) to the peer, so a finish never precedes
  // its post in the sums.
  void posted(std::uint64_t n) noexcept { posted_.add(n); }
  void finished() noexcept { finished_.add(1); }

  // The task as the peer runs it: f, then a finish mark.
  template <class F>
  auto counted(F f) {
    return [this, f] {
      f();
      finished();
    };
  }

  void wait_idle() const {
    Backoff backoff;
    for (;;) {
      // Read finished first: if it equals a later read of posted, every task
      // posted before this call had finished when it was read.
      const std::uint64_t done = finished_.sum();
      if (done == posted_.sum()) return;
      backoff.wait();
    }
  }

 private:
  ThreadCounters posted_;
  ThreadCounters finished_;
};

}  // namespace peers

// oneTBB task_arena::enqueue: fire-and-forget tasks into an arena.
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

#include "systems/completion_tally.hpp"
#include "systems/system_entry.hpp"

namespace peers {
namespace {

class TbbArena {
 public:
  static constexpr std::string_view kName = "tbb-arena";

  // TBB starts hardware_concurrency - 1 workers by default (it counts the
  // caller as one); allow `threads` workers, and reserve no arena slot for
  // the producer, so exactly `threads` workers run the enqueued tasks.
  explicit TbbArena(const RunConfig& run)
      : control_(tbb::global_control::max_allowed_parallelism, run.threads + 1),
        arena_(static_cast<int>(run.threads), 0) {}

  template <class F>
  void post(F f) {
    tally_.posted(1);
    arena_.enqueue(tally_.counted(f));
  }

  template <class F>
  void spawn(F f) { post(f); }

  // No batch API: a loop, with the tally bumped once.
  template <class It>
  void post_bulk(It first, It last) {
    tally_.posted(static_cast<std::uint64_t>(last - first));
    for (; first != last; ++first) arena_.enqueue(tally_.counted(*first));
  }

  void wait_idle() { tally_.wait_idle(); }

 private:
  tbb::global_control control_;
  CompletionTally tally_;
  tbb::task_arena arena_;  // declared last: destroyed first, before the tally its tasks touch
};

}  // namespace

SystemEntry tbb_arena_entry() { return make_entry<TbbArena>(); }

}  // namespace peers

// oneTBB task_group::run: spawned tasks, stolen by workers; wait() joins in.
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_group.h>

#include "systems/system_entry.hpp"

namespace peers {
namespace {

class TbbGroup {
 public:
  static constexpr std::string_view kName = "tbb-group";

  // The implicit arena reserves a slot for the caller: `threads + 1` gives
  // `threads` workers (the thread in wait() helps too, as task_group does).
  explicit TbbGroup(const RunConfig& run)
      : control_(tbb::global_control::max_allowed_parallelism, run.threads + 1) {}

  template <class F>
  void post(F f) { group_.run(f); }

  template <class F>
  void spawn(F f) { group_.run(f); }

  template <class It>
  void post_bulk(It first, It last) {
    for (; first != last; ++first) group_.run(*first);
  }

  void wait_idle() { group_.wait(); }

 private:
  tbb::global_control control_;
  tbb::task_group group_;
};

}  // namespace

SystemEntry tbb_group_entry() { return make_entry<TbbGroup>(); }

}  // namespace peers

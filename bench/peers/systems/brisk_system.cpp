// brisk: the system under test. post() closures, post_bulk(), drain().
#include <stdexcept>
#include <thread>

#include "brisk/brisk.hpp"
#include "systems/system_entry.hpp"

namespace peers {
namespace {

brisk::EngineConfig config_for(const RunConfig& run) {
  brisk::EngineConfig config;
  config.workers = run.threads;
  if (run.pin_brisk >= 0) config.pin_workers = run.pin_brisk == 1;
  return config;
}

void check_full(brisk::SubmitStatus status) {
  if (status != brisk::SubmitStatus::rejected_full) {
    throw std::runtime_error("brisk refused a task: " + std::string(brisk::to_string(status)));
  }
}

class BriskSystem {
 public:
  static constexpr std::string_view kName = "brisk";

  explicit BriskSystem(const RunConfig& run) : engine_(config_for(run)) { engine_.start(); }

  // The rings are bounded: a producer that finds them full waits its turn,
  // which is what a real caller does with rejected_full.
  template <class F>
  void post(F f) {
    for (brisk::SubmitStatus s; (s = engine_.post(f)) != brisk::SubmitStatus::accepted;) {
      check_full(s);
      std::this_thread::yield();
    }
  }

  // A worker must not wait for rings that only workers empty: when they are
  // full it runs the child itself.
  template <class F>
  void spawn(F f) {
    const brisk::SubmitStatus s = engine_.post(f);
    if (s == brisk::SubmitStatus::accepted) return;
    check_full(s);
    f();
  }

  template <class It>
  void post_bulk(It first, It last) {
    while (first != last) {
      const brisk::BulkResult r = engine_.post_bulk(first, last);
      first += static_cast<std::ptrdiff_t>(r.accepted);
      if (first == last) return;
      check_full(r.first_refusal);
      std::this_thread::yield();
    }
  }

  void wait_idle() { engine_.drain(); }

 private:
  brisk::Engine engine_;
};

}  // namespace

SystemEntry brisk_entry() { return make_entry<BriskSystem>(); }

}  // namespace peers

// SpinBudget: how long an idle worker spins before it parks, decided from
// what its own recent spins met (issue 22).
//
// Spinning buys latency (a task that arrives while a worker polls starts in
// well under a microsecond; a parked worker costs the producer a FUTEX_WAKE
// and the task a wake-up) and costs CPU. On a host of its own the CPU is
// free, so the only question is whether spinning wins: does work arrive
// while we spin? On a busy host it is worse than wasted: a thread that spins
// looks CPU-bound to the kernel, so it loses the wake-up preference that
// sleeping threads get, and every sched_yield hands the CPU to a busy thread
// for a whole time slice (milliseconds) while tasks wait. So a worker spins
// only while
//   1. spinning is winning: a spin that finds nothing halves the budget; a
//      park that a spin twice as long would have covered doubles it; and
//   2. nobody else wants its CPU: a gap of kLostCpuNs or more between two of
//      its own polls means the thread did not run for that long (preempted,
//      or a yield gave the CPU to someone who kept it). That is the only
//      signal needed, it comes from a clock read the poll loop makes anyway,
//      and it costs no system call. Then the worker is *held* for a while:
//      no sched_yield at all, and only as many PAUSE polls as recent spins
//      needed to win (rule 1 with a floor of one poll and a ceiling of the
//      64-poll PAUSE phase). A flood of tasks (work every few hundred ns)
//      keeps a few polls and no FUTEX_WAKE per task; tasks 10 us apart
//      bring it down to one poll, then park. After the hold the worker
//      spins at full budget again. A hold that ends only to find the CPU
//      taken again doubles (up to kMaxHoldNs), so a host that stays busy
//      sees one such probe a second at most; a host that turned quiet gets
//      spinning back within kMinHoldNs.
//      Why not keep the PAUSE phase while held: a worker in it counts as a
//      searcher, producers do not wake a sleeper while one searches, and a
//      searcher preempted mid-spin holds new tasks for a time slice (64
//      polls while held measured p99 13.7 ms on a busy host at 100k tasks/s,
//      one poll 0.3 ms; docs/perf.md, "Busy host").
// EngineConfig::spin_polls stays the upper bound; nothing here is a knob.
//
// One worker owns one SpinBudget: no atomics, no threads. Tests drive it by
// feeding observations (tests/unit/spin_budget_test.cpp).
#pragma once

#include <algorithm>
#include <cstdint>

namespace brisk::detail {

class SpinBudget {
 public:
  // A gap this long between two polls: the thread lost its CPU. A poll is
  // tens of nanoseconds and a yield to nobody about a microsecond; a
  // producer of ours that takes the CPU for a moment yields it back within
  // tens of microseconds; a busy thread keeps it for a time slice (~3 ms).
  static constexpr std::uint64_t kLostCpuNs = 200'000;
  // Park at once for this long after the CPU was lost (doubling up to
  // kMaxHoldNs while the host stays busy).
  static constexpr std::uint64_t kMinHoldNs = 10'000'000;
  static constexpr std::uint64_t kMaxHoldNs = 1'000'000'000;
  // Not held, the budget never halves below this: the worker's PAUSE phase
  // (~2 us), cheaper than a park and a wake. Held, it is the ceiling.
  static constexpr unsigned kMinPolls = 64;

  explicit SpinBudget(unsigned max_polls) noexcept : max_(max_polls), polls_(max_polls) {}

  // Polls to make before parking now (<= max_polls).
  unsigned polls(std::uint64_t now_ns) noexcept {
    if (held(now_ns)) return std::min(polls_, kMinPolls);
    if (held_until_ != 0) {  // a hold just ended: probe at the full budget
      held_until_ = 0;
      polls_ = max_;
    }
    return polls_;
  }
  bool held(std::uint64_t now_ns) const noexcept { return now_ns < held_until_; }

  // One idle spin ended at now_ns after `made` polls over spun_ns, finding
  // work or not; longest_gap_ns is the longest time between two of its polls.
  void spun(unsigned made, bool found, std::uint64_t spun_ns, std::uint64_t longest_gap_ns,
            std::uint64_t now_ns) noexcept {
    if (made != 0) ns_per_poll_ = spun_ns / made;
    if (longest_gap_ns >= kLostCpuNs) {
      lost_cpu(now_ns);
      return;
    }
    if (found) return;
    const unsigned floor = held(now_ns) ? 1 : std::min(max_, kMinPolls);
    polls_ = std::max(floor, std::min(polls_, held(now_ns) ? kMinPolls : max_) / 2);
  }

  // A park ended after parked_ns: had a spin twice as long as the budget
  // covered it, double the budget.
  void woke(std::uint64_t parked_ns) noexcept {
    const std::uint64_t twice = 2 * std::uint64_t{polls_};
    if (parked_ns < twice * ns_per_poll_) polls_ = static_cast<unsigned>(std::min<std::uint64_t>(max_, twice));
  }

  std::uint64_t hold_ns() const noexcept { return hold_; }
  std::uint64_t cpu_lost_count() const noexcept { return lost_; }

 private:
  void lost_cpu(std::uint64_t now_ns) noexcept {
    ++lost_;
    if (held(now_ns)) {  // still busy during a hold: hold on, without escalating
      held_until_ = now_ns + hold_;
      return;
    }
    // Lost again soon after the last hold ended: the host is still busy, so
    // probe less often. Otherwise it is new contention: start short.
    const bool again = last_lost_ != 0 && now_ns - last_lost_ < 4 * hold_;
    hold_ = again ? std::min(kMaxHoldNs, 2 * hold_) : kMinHoldNs;
    last_lost_ = now_ns;
    held_until_ = now_ns + hold_;
    polls_ = std::min(polls_, kMinPolls);
  }

  const unsigned max_;
  unsigned polls_;
  std::uint64_t ns_per_poll_ = 0;  // of the last spin: what a budget of polls lasts
  std::uint64_t held_until_ = 0;
  std::uint64_t hold_ = kMinHoldNs;
  std::uint64_t last_lost_ = 0;
  std::uint64_t lost_ = 0;
};

// The clock side of one spin (times in ns): its start, its polls and the
// longest gap between two of them.
struct SpinWatch {
  std::uint64_t start, last, longest = 0;
  unsigned polls = 0;
  explicit SpinWatch(std::uint64_t now) noexcept : start(now), last(now) {}
  void poll(std::uint64_t now) noexcept {
    longest = std::max(longest, now - last);
    last = now;
    ++polls;
  }
  // The CPU was lost during this spin: stop now and park (SpinBudget holds).
  bool lost_cpu() const noexcept { return longest >= SpinBudget::kLostCpuNs; }
  // Tells `budget` how the spin went.
  void report_to(SpinBudget& budget, bool found) const noexcept {
    budget.spun(polls, found, last - start, longest, last);
  }
};

}  // namespace brisk::detail

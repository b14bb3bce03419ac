// YieldBackoff: whether an idle worker may poll by yielding its CPU before
// it parks, or should park as soon as its short PAUSE spin finds nothing
// (issue 22: brisk inside a busy host).
//
// Yield-polling keeps a worker runnable, which is what makes brisk fast on a
// quiet host: when a producer shares the worker's CPU, sched_yield hands the
// CPU to it and the worker is back within microseconds, with no futex wake
// to pay. On a host whose own threads want the CPU, the same yield hands it
// to one of them for a whole time slice (milliseconds). A yielding worker is
// neither searching nor asleep, so producers wake no one: the work posted
// meanwhile waits for the slice to end. A parked worker, by contrast, is
// woken by the producer, and as a thread that slept it preempts the busy one.
//
// The signal is that cost, measured where it is paid: a yield poll that
// came back after a long time off the CPU (kLongNs) and found work that had
// waited about that long too, while the other workers ran less than half
// of what arrived meanwhile. That work was stranded by the yield. It needs
// no knowledge of whose thread took the CPU: when it is our own producer
// (the quiet host's case), it comes back with work that is new, or the
// other workers have run it meanwhile. (A saturating producer keeps a
// backlog that the others work through: found work waited for the
// backlog, not the yield, and parking would only add wakes; that cost
// busy-host throughput 8.8 -> 5.0 M/s before the condition was added.)
// kLongNs is 1 ms: a time slice on a busy host is 1-4 ms, while on the
// quiet development VM yields come back within 50-450 us even when it
// stalls them (at 50 us, quiet 1.25 s runs counted 10-30 strandings; at
// 1 ms, 0-2).
//
// Stranded: park at once for a backoff, which doubles at each stranding
// from kMinBackoffNs up to kMaxBackoffNs; after it, yield again to learn
// whether the host is quiet again. Each such probe on a host that is still
// busy strands one slice's work, so the backoff is long: a worker probes
// at most every 2 s once the host has stayed busy a few seconds. Fresh work
// found by yielding halves the backoff, but only once the worker has
// yielded for four backoffs without a stranding. Single-threaded: one per
// worker.
#pragma once

#include <algorithm>
#include <cstdint>

namespace brisk::detail {

class YieldBackoff {
 public:
  // Longer than a yield to a thread that posts and goes (a few us), than an
  // interrupt or a hypervisor's hiccup; shorter than a time slice.
  static constexpr std::uint64_t kLongNs = 1'000'000;
  static constexpr std::int64_t kMinBackoffNs = 100'000'000;
  static constexpr std::int64_t kMaxBackoffNs = 2'000'000'000;

  // False while backing off: park instead of yield-polling.
  bool may_yield(std::int64_t now_ns) const noexcept { return now_ns >= park_until_ns_; }

  // A yield poll found work: the worker was away `away_ns` (the yield and
  // the poll), and the oldest job it found had waited `oldest_wait_ns`;
  // since its yield polls began, `arrived` jobs were posted and the other
  // workers took `taken_by_others`. Returns true if that work was stranded
  // (the backoff starts): it waited long, and the others did not run most
  // of what arrived meanwhile either. When they did (a saturating producer
  // keeps a backlog that the other workers work through), the wait is the
  // backlog's, and parking would only cost the wakes.
  bool found_after_yield(std::int64_t now_ns, std::uint64_t away_ns, std::uint64_t oldest_wait_ns,
                         std::uint64_t arrived, std::uint64_t taken_by_others) noexcept {
    if (away_ns >= kLongNs && oldest_wait_ns >= kLongNs && 2 * taken_by_others < arrived) {
      park_until_ns_ = now_ns + backoff_ns_;
      last_change_ns_ = now_ns;
      backoff_ns_ = std::min(backoff_ns_ * 2, kMaxBackoffNs);
      return true;
    }
    if (now_ns - last_change_ns_ >= 4 * backoff_ns_) {
      backoff_ns_ = std::max(backoff_ns_ / 2, kMinBackoffNs);
      last_change_ns_ = now_ns;
    }
    return false;
  }

  std::int64_t backoff_ns() const noexcept { return backoff_ns_; }

 private:
  std::int64_t park_until_ns_ = 0;
  std::int64_t backoff_ns_ = kMinBackoffNs;
  std::int64_t last_change_ns_ = 0;  // the last stranding or halving
};

}  // namespace brisk::detail

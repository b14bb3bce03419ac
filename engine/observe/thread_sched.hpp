// What the kernel's scheduler did to one thread of this process, from
// /proc/self/task/<tid>/schedstat and /proc/self/task/<tid>/status.
//
// wait_ns is the time the thread was runnable but not running (it waited
// for a CPU): on a host whose own threads compete with the workers, it
// grows with every time slice a worker loses. involuntary_switches counts
// those losses (preemptions); voluntary ones are the thread's own sleeps
// (parking on the futex).
#pragma once

#include <cstdint>

namespace brisk::observe {

struct ThreadSched {
  bool known = false;  // false: no such thread, or no /proc (then every count is 0)
  std::uint64_t run_ns = 0;
  std::uint64_t wait_ns = 0;
  std::uint64_t timeslices = 0;
  std::uint64_t voluntary_switches = 0;
  std::uint64_t involuntary_switches = 0;
};

// Reads both files for thread `tid` of this process (a cold path: two opens).
ThreadSched read_thread_sched(int tid);

}  // namespace brisk::observe

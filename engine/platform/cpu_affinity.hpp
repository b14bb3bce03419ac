// Which CPUs this process may run on, how much CPU time its cgroup allows,
// and pinning a thread to one CPU.
#pragma once

#include <string_view>
#include <vector>

namespace brisk::detail {

// CPUs in the calling thread's affinity mask (what sched_getaffinity allows:
// taskset, numactl, a container's cpuset), sorted.
std::vector<int> allowed_cpus();

// CPUs' worth of time the process's cgroup v2 quota allows (cpu.max of its
// cgroup and every ancestor: the smallest quota / period), or 0 when there
// is no quota or it cannot be read.
double cgroup_cpu_limit();

// Worker threads that fit: one per allowed CPU, capped by the cgroup quota
// rounded up (a quota of 1.5 CPUs gets 2), at least 1.
unsigned fitting_workers(std::size_t allowed_cpus, double cpu_limit) noexcept;

// ---- parsing, exposed for tests ----
// "150000 100000" -> 1.5; "max 100000" or garbage -> 0.
double parse_cpu_max(std::string_view text) noexcept;
// /proc/self/cgroup's cgroup v2 line ("0::/a/b") -> "/a/b"; "" when absent.
std::string_view cgroup_v2_path(std::string_view proc_self_cgroup) noexcept;
// Where cgroup2 is mounted, from /proc/self/mountinfo; "" when absent.
std::string_view cgroup2_mount(std::string_view mountinfo) noexcept;

// Pins the calling thread to cpu. Returns false if the kernel refused.
bool pin_current_thread(int cpu) noexcept;

}  // namespace brisk::detail

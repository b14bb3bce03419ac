// Which CPUs this process may run on, and pinning a thread to one of them.
#pragma once

#include <vector>

namespace brisk::detail {

// CPUs in this process's affinity mask (what sched_getaffinity allows), sorted.
std::vector<int> allowed_cpus();

// Pins the calling thread to cpu. Returns false if the kernel refused.
bool pin_current_thread(int cpu) noexcept;

}  // namespace brisk::detail

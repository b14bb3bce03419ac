#include "platform/cpu_affinity.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "brisk/config.hpp"

namespace brisk {

unsigned default_workers() noexcept {
  try {
    return detail::fitting_workers(detail::allowed_cpus().size(), detail::cgroup_cpu_limit());
  } catch (...) {  // out of memory reading a file: one worker still works
    return 1;
  }
}

}  // namespace brisk

namespace brisk::detail {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The next line of `text` from `pos` (without its newline); pos moves past it.
std::string_view next_line(std::string_view text, std::size_t& pos) {
  const std::size_t end = std::min(text.find('\n', pos), text.size());
  const std::string_view line = text.substr(pos, end - pos);
  pos = end + 1;
  return line;
}

}  // namespace

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    }
  }
  return cpus;
}

double parse_cpu_max(std::string_view text) noexcept {
  const std::string s(text.substr(0, 64));
  char* end = nullptr;
  const double quota = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || quota <= 0) return 0;  // "max" or unreadable
  const double period = std::strtod(end, nullptr);
  return period > 0 ? quota / period : 0;
}

std::string_view cgroup_v2_path(std::string_view proc_self_cgroup) noexcept {
  for (std::size_t pos = 0; pos < proc_self_cgroup.size();) {
    const std::string_view line = next_line(proc_self_cgroup, pos);
    if (line.substr(0, 3) == "0::") return line.substr(3);
  }
  return {};
}

std::string_view cgroup2_mount(std::string_view mountinfo) noexcept {
  // "36 25 0:31 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw": the
  // mount point is the fifth field, the type the first after " - ".
  for (std::size_t pos = 0; pos < mountinfo.size();) {
    const std::string_view line = next_line(mountinfo, pos);
    const std::size_t dash = line.find(" - ");
    if (dash == std::string_view::npos || line.substr(dash + 3, 8) != "cgroup2 ") continue;
    std::size_t field = 0, start = 0;
    for (int i = 0; i < 4 && start != std::string_view::npos; ++i) start = line.find(' ', start) + 1;
    if (start == 0) continue;
    field = line.find(' ', start);
    return line.substr(start, field - start);
  }
  return {};
}

double cgroup_cpu_limit() {
  const std::string cgroups = read_file("/proc/self/cgroup");
  const std::string mounts = read_file("/proc/self/mountinfo");
  const std::string_view path = cgroup_v2_path(cgroups), mount = cgroup2_mount(mounts);
  if (path.empty() || mount.empty()) return 0;
  // A quota anywhere up the tree limits this cgroup too: take the smallest.
  double limit = 0;
  std::string dir(path);
  for (;;) {
    const double here = parse_cpu_max(read_file(std::string(mount) + dir + "/cpu.max"));
    if (here > 0 && (limit == 0 || here < limit)) limit = here;
    if (dir.empty() || dir == "/") break;
    dir.erase(dir.find_last_of('/'));
  }
  return limit;
}

unsigned fitting_workers(std::size_t allowed, double cpu_limit) noexcept {
  std::size_t n = std::max<std::size_t>(allowed, 1);
  if (cpu_limit > 0) n = std::min(n, static_cast<std::size_t>(std::ceil(cpu_limit - 1e-9)));
  return static_cast<unsigned>(std::clamp<std::size_t>(n, 1, 1024));
}

bool pin_current_thread(int cpu) noexcept {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

}  // namespace brisk::detail

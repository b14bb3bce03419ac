#include "observe/thread_sched.hpp"

#include <cstdio>
#include <cstring>
#include <string>

namespace brisk::observe {
namespace {

std::string task_file(int tid, const char* name) {
  return "/proc/self/task/" + std::to_string(tid) + "/" + name;
}

// schedstat: "<run ns> <wait ns> <timeslices>\n".
bool read_schedstat(int tid, ThreadSched& out) {
  std::FILE* f = std::fopen(task_file(tid, "schedstat").c_str(), "r");
  if (f == nullptr) return false;
  unsigned long long run = 0, wait = 0, slices = 0;
  const bool ok = std::fscanf(f, "%llu %llu %llu", &run, &wait, &slices) == 3;
  std::fclose(f);
  if (ok) {
    out.run_ns = run;
    out.wait_ns = wait;
    out.timeslices = slices;
  }
  return ok;
}

// status: one "Key:\tvalue" per line; the two context-switch lines come last.
bool read_switches(int tid, ThreadSched& out) {
  std::FILE* f = std::fopen(task_file(tid, "status").c_str(), "r");
  if (f == nullptr) return false;
  char line[256];
  int found = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    unsigned long long v = 0;
    if (std::sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1) {
      out.voluntary_switches = v;
      ++found;
    } else if (std::sscanf(line, "nonvoluntary_ctxt_switches: %llu", &v) == 1) {
      out.involuntary_switches = v;
      ++found;
    }
  }
  std::fclose(f);
  return found == 2;
}

}  // namespace

ThreadSched read_thread_sched(int tid) {
  ThreadSched s;
  if (tid <= 0) return s;
  s.known = read_schedstat(tid, s) && read_switches(tid, s);
  if (!s.known) s = ThreadSched{};
  return s;
}

}  // namespace brisk::observe

// brisk_cluster_worker processes for the kill -9 tests: spawned with a log
// file of their own, killed by the test. Each finished task is one line
// "<idempotency key> <attempt>" in the log, written before its ack is sent,
// so the logs hold at least every acknowledged task.
#pragma once

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace brisk_test {

// Dies with the test (PR_SET_PDEATHSIG) so a failed assertion leaves no
// worker behind. Lease 1.5 s, 10 ms per task, 32 tasks in flight per process.
inline pid_t spawn_cluster_worker(const std::string& url, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::execl(BRISK_CLUSTER_WORKER, BRISK_CLUSTER_WORKER, "--server", url.c_str(), "--log", log.c_str(),
            "--ack-wait-ms", "1500", "--sleep-ms", "10", "--in-flight", "32", "--seconds", "120",
            static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  return pid;
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace brisk_test

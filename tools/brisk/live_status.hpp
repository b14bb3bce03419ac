// A one-line live status for long runs of the `brisk` tool.
//
//   brisk::tools::LiveStatus status(engine);  // refreshes a line on stdout, if it is a terminal
//   run_the_long_workload();
//   status.stop();                            // clears the line (the destructor does too)
//
// Its own thread samples Engine::stats() a few times per second and rewrites
// the line in place with '\r': tasks/s over the last period, queue-wait p99
// since start, queue depth, credits outstanding. When stdout is not a
// terminal (a pipe, a file, CI) it does nothing at all, so logs stay clean.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace brisk {
class Engine;
}

namespace brisk::tools {

class LiveStatus {
 public:
  explicit LiveStatus(const Engine& engine, std::chrono::milliseconds period = std::chrono::milliseconds(250));
  ~LiveStatus();
  LiveStatus(const LiveStatus&) = delete;
  LiveStatus& operator=(const LiveStatus&) = delete;

  // Stops refreshing and erases the line. Idempotent.
  void stop();

 private:
  void run();

  const Engine& engine_;
  const std::chrono::milliseconds period_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // not started when stdout is not a terminal
};

}  // namespace brisk::tools

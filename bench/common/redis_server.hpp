// A redis-server of the benchmark's own: loopback only, the given port, an
// append-only file in a temporary directory with the given appendfsync
// policy (always, everysec, no), no RDB snapshots; stopped (SIGTERM) and its
// directory removed with the object. It is the durable peer of the WAL
// benchmark (bench/durable) and of the cluster benchmark (bench/cluster).
#pragma once

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "temp_dir.hpp"

namespace brisk_bench {

class RedisServer {
 public:
  RedisServer(const std::string& disk_dir, const std::string& fsync, int port) : dir_(disk_dir), port_(port) {
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      // Its log stays out of our report.
      if (const int null = ::open("/dev/null", O_WRONLY); null >= 0) {
        ::dup2(null, STDOUT_FILENO);
        ::dup2(null, STDERR_FILENO);
      }
      const std::string port_text = std::to_string(port);
      ::execlp("redis-server", "redis-server", "--port", port_text.c_str(), "--bind", "127.0.0.1", "--dir",
               dir_.path().c_str(), "--appendonly", "yes", "--appendfsync", fsync.c_str(), "--save", "",
               "--daemonize", "no", "--loglevel", "warning", static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    for (int i = 0; i < 500; ++i) {
      if (redisContext* c = connect()) {
        auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
        const bool up = reply != nullptr && reply->type == REDIS_REPLY_STATUS;
        if (reply != nullptr) freeReplyObject(reply);
        redisFree(c);
        if (up) return;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("redis-server exited at start (is it installed? scripts/install-deps.sh)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw std::runtime_error("redis-server did not answer PING on port " + std::to_string(port));
  }
  ~RedisServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // A new connection, or nullptr.
  redisContext* connect() const {
    redisContext* c = redisConnect("127.0.0.1", port_);
    if (c != nullptr && c->err != 0) {
      redisFree(c);
      return nullptr;
    }
    return c;
  }

 private:
  TempDir dir_;
  int port_;
  pid_t pid_ = -1;
};

}  // namespace brisk_bench

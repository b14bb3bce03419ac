// The durable peer of brisk's durable batch (bench/batch, issue 17): the
// usual Redis recipe for "N jobs, then a callback". The submitter pipelines
// SET batch:<b>:pending N and N x LPUSH jobs <b> over one connection (one
// round trip per batch); each worker thread has its own connection and
// loops BRPOP jobs, the task body, DECR batch:<b>:pending; the worker whose
// DECR answers 0 runs the callback. The redis-server is the benchmark's own
// (bench/common/redis_server.hpp: loopback, appendonly, the given
// appendfsync), so the queue and the counter survive a crash as its AOF
// promises, as brisk's log does for its batch.
#pragma once

#include <hiredis/hiredis.h>

#include <atomic>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "redis_server.hpp"

namespace brisk_bench {

class RedisBatch {
 public:
  RedisBatch(unsigned workers, const std::string& disk_dir, const std::string& fsync, int port,
             std::function<void()> body)
      : server_(disk_dir, fsync, port), body_(std::move(body)), submitter_(connect()) {
    for (unsigned i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }
  ~RedisBatch() {
    stop_.store(true, std::memory_order_relaxed);
    for (std::thread& t : threads_) t.join();  // BRPOP times out within a second
    redisFree(submitter_);
  }
  RedisBatch(const RedisBatch&) = delete;
  RedisBatch& operator=(const RedisBatch&) = delete;

  void run(int tasks) {
    done_.store(false, std::memory_order_relaxed);
    const std::string batch = std::to_string(++batches_);
    const std::string counter = "batch:" + batch + ":pending";
    redisAppendCommand(submitter_, "SET %b %d", counter.data(), counter.size(), tasks);
    for (int i = 0; i < tasks; ++i) redisAppendCommand(submitter_, "LPUSH jobs %b", batch.data(), batch.size());
    for (int i = 0; i <= tasks; ++i) {
      void* reply = nullptr;
      if (redisGetReply(submitter_, &reply) != REDIS_OK || reply == nullptr) throw std::runtime_error("redis: lost");
      freeReplyObject(reply);
    }
    // Waits without sleeping, as the other systems do.
    while (!done_.load(std::memory_order_acquire)) std::this_thread::yield();
  }

 private:
  redisContext* connect() const {
    redisContext* c = server_.connect();
    if (c == nullptr) throw std::runtime_error("cannot connect to redis-server");
    return c;
  }

  void work() {
    redisContext* c = connect();
    while (!stop_.load(std::memory_order_relaxed)) {
      auto* job = static_cast<redisReply*>(redisCommand(c, "BRPOP jobs 1"));
      if (job == nullptr) break;
      if (job->type == REDIS_REPLY_ARRAY && job->elements == 2) {
        const std::string counter = "batch:" + std::string(job->element[1]->str, job->element[1]->len) + ":pending";
        body_();
        auto* left = static_cast<redisReply*>(redisCommand(c, "DECR %b", counter.data(), counter.size()));
        if (left != nullptr && left->type == REDIS_REPLY_INTEGER && left->integer == 0) {
          done_.store(true, std::memory_order_release);  // the callback
        }
        if (left != nullptr) freeReplyObject(left);
      }
      freeReplyObject(job);
    }
    redisFree(c);
  }

  RedisServer server_;
  std::function<void()> body_;
  redisContext* submitter_;
  unsigned long batches_ = 0;
  // The callback ran (release/acquire: the submitter sees the batch done).
  std::atomic<bool> done_{false};
  std::atomic<bool> stop_{false};  // relaxed: only ends the loops
  std::vector<std::thread> threads_;
};

}  // namespace brisk_bench

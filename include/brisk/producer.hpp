// brisk::Producer: a submitting handle that holds credits (backpressure).
//
// Each submission spends one credit; a task gives its credit back when it
// reaches a final outcome. With no credits left nothing is enqueued, so the
// work a producer can have in flight is bounded and memory stays bounded
// under any load. Three ways to meet backpressure:
//   post / submit          try: returns rejected_backpressure at once (HTTP 429),
//                          with retry_after() as a hint
//   post_for / submit_for  block until a credit arrives or the timeout passes
//   request(n, callback)   asynchronous: callback runs once n credits are granted
//
// A Producer is cheap, movable and not thread-safe: make one per thread.
// Credits it holds unspent go back to the engine when it is destroyed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "brisk/detail/job.hpp"
#include "brisk/submit.hpp"
#include "brisk/task.hpp"

namespace brisk {

namespace detail {
class EngineCore;
struct ProducerGrants;
}

class Producer {
 public:
  Producer(Producer&& other) noexcept;
  Producer& operator=(Producer&& other) noexcept;
  ~Producer();

  template <class F>
  SubmitStatus post(F&& callable, Priority priority = priority::normal) {
    if (cached_ == 0 && !refill()) return backpressure();
    return post_job(detail::Job(std::forward<F>(callable)), priority);
  }

  template <class F>
  SubmitStatus post_for(F&& callable, std::chrono::nanoseconds timeout,
                        Priority priority = priority::normal) {
    if (cached_ == 0 && !refill() && !wait_for_credit(timeout)) return backpressure();
    return post_job(detail::Job(std::forward<F>(callable)), priority);
  }

  SubmitResult submit(std::string_view task_name, std::string payload, TaskOptions options = {});
  SubmitResult submit(TaskType type, std::string payload, TaskOptions options = {});
  SubmitResult submit_for(TaskType type, std::string payload, std::chrono::nanoseconds timeout,
                          TaskOptions options = {});

  // Asks the engine for n credits (1..capacity); on_granted runs once they
  // are this producer's: at once on this thread if available, otherwise on
  // the worker thread whose task returned the last of them (keep it short,
  // e.g. resume your event loop's reader). One request at a time.
  void request(std::int64_t n, std::function<void()> on_granted);

  // Credits this producer holds unspent (granted asynchronously included).
  std::int64_t credits() const noexcept;
  // When a rejected_backpressure submission is likely to succeed if retried.
  std::chrono::microseconds retry_after() const noexcept;

 private:
  friend class Engine;
  explicit Producer(detail::EngineCore& core);

  bool refill();
  bool wait_for_credit(std::chrono::nanoseconds timeout);
  SubmitStatus backpressure() noexcept;
  SubmitStatus post_job(detail::Job&& job, Priority priority);
  SubmitResult submit_index(std::int64_t type, std::string payload, const TaskOptions& options);
  void release_credits() noexcept;

  detail::EngineCore* core_ = nullptr;
  std::int64_t cached_ = 0;  // spent without atomics: only this producer's thread
  std::shared_ptr<detail::ProducerGrants> grants_;  // credits granted asynchronously
};

}  // namespace brisk

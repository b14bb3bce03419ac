// What the cluster worker's files share: its per-type state and slots
// (worker.cpp runs them, cluster_metrics.cpp reports them). Not installed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "brisk/deferred_outcome.hpp"
#include "internal.hpp"

namespace brisk::cluster {
namespace detail {

struct Slot {
  std::mutex mu;  // between the settling thread and the in-progress thread
  natsMsg* msg = nullptr;
  std::uint64_t stream_seq = 0;
  std::uint32_t deliveries = 0;
  std::string key;
  std::int64_t last_progress_ns = 0;
  // Set when the handler starts (0: not running yet); the progress thread
  // gives the message up at the type's hard_timeout from here.
  std::int64_t run_started_ns = 0;
  // The hard limit passed: the message was settled without the handler,
  // which is asked to stop (cancellation_requested). Relaxed: a hint the
  // handler polls; the settlement itself is ordered by `mu`.
  std::atomic<bool> overrun{false};
  // The local engine's attempt, when the handler deferred: it stays
  // running (holding its concurrency slot) until the message is settled.
  DeferredOutcome engine_attempt;
};

struct Counters {
  std::atomic<std::uint64_t> fetched{0}, acked{0}, naked{0}, dead_lettered{0}, in_progress_sent{0},
      delayed_promoted{0}, delayed_naked{0}, redelivered{0}, hard_timeouts{0};
};

}  // namespace detail

struct Worker::Impl final : brisk::detail::DeferredSink {
  struct Type {
    std::string name;
    Handler handler;
    TaskTypeOptions options;
    std::uint32_t max_in_flight = 64;
    std::string subject;
    std::string durable;
    natsSubscription* sub = nullptr;
    std::vector<detail::Slot> slots;
    std::mutex free_mu;
    std::condition_variable free_cv;
    std::vector<std::uint32_t> free;
    std::thread fetcher;
  };

  Impl(Client& c, Engine& e, WorkerConfig cfg) : owner(c), client(*c.impl_), engine(e), config(cfg) {}

  Client& owner;  // its metrics join the worker's
  Client::Impl& client;
  Engine& engine;
  WorkerConfig config;
  std::vector<std::unique_ptr<Type>> types;
  detail::Counters counters;
  std::uint64_t metrics_source = 0;  // Engine::add_metrics_source id while started
  std::atomic<bool> stopping{false};           // fetching stops
  std::atomic<bool> progress_stopping{false};  // after the last fetched task settled
  bool started = false;
  bool stopped = false;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  std::thread progress_thread;
  std::thread delayed_thread;
  natsSubscription* delayed_sub = nullptr;

  natsSubscription* bind(const std::string& durable, const std::string& filter, std::int64_t max_deliver,
                         std::int64_t max_ack_pending);
  void fetch_loop(Type& t);
  void admit(Type& t, natsMsg* msg);
  Outcome run(Type& t, TaskContext& ctx);
  // A deferred handler's handle completed: settle the message, then end
  // the local attempt. `record` is the Type, `tag` the slot.
  bool complete_deferred(void* record, void*, std::uint64_t tag, std::uint32_t, Outcome&& outcome,
                         std::string&&) noexcept override;
  // The handler's outcome: settles the message unless the hard limit did,
  // then frees the slot.
  void settle(Type& t, std::uint32_t index, const Outcome& outcome);
  // Ack, nak with backoff, or dead letter + term; destroys msg.
  void settle_message(Type& t, detail::Slot& slot, natsMsg* msg, const Outcome& outcome);
  // Gives up the messages whose handler ran past the type's hard_timeout.
  void expire_overruns(std::int64_t now);
  void release(Type& t, std::uint32_t index);
  void dead_letter(Type& t, natsMsg* msg, std::uint64_t seq, std::uint32_t attempts, const std::string& error);
  void progress_loop();
  void delayed_loop();
  // False when `flag` was raised meanwhile.
  bool sleep_for(std::chrono::nanoseconds d, const std::atomic<bool>& flag) {
    std::unique_lock lock(stop_mu);
    return !stop_cv.wait_for(lock, d, [&] { return flag.load(); });
  }
  bool sleep_for(std::chrono::nanoseconds d) { return sleep_for(d, stopping); }
};

}  // namespace brisk::cluster

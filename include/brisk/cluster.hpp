// brisk::cluster: many brisk processes sharing one durable task stream on
// NATS JetStream (an optional component: target brisk::cluster, built when
// libnats is found; the core library has no NATS dependency).
//
//   brisk::cluster::Client client({.servers = {"nats://10.0.0.1:4222"}});
//   brisk::SubmitResult r = client.submit("email", payload, {.idempotency_key = "order-42"});
//   client.wait_durable(r);                  // true once JetStream acknowledged it
//
//   brisk::Engine engine;                    // the local engine that runs the tasks
//   brisk::cluster::Worker worker(client, engine);
//   worker.register_task("email", handler, options);   // before engine.start()
//   engine.start();
//   worker.start();                          // pull consumers, one per task type
//
// Delivery is at-least-once; an idempotency key (Nats-Msg-Id) makes the
// submission effectively once within the stream's duplicates window.
// docs/cluster.md has the model, the JetStream settings and every failure.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "brisk/engine.hpp"
#include "brisk/submit.hpp"
#include "brisk/task.hpp"

namespace brisk::cluster {

using namespace std::chrono_literals;

// Connecting, creating a stream or a consumer failed; the message says which
// server answered what.
class ClusterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ClientConfig {
  // NATS server URLs (any node of a cluster; the client learns the others).
  std::vector<std::string> servers = {"nats://127.0.0.1:4222"};
  std::string connection_name = "brisk";
  // Subjects: <prefix>.tasks.<type> (work), <prefix>.delayed.<type> (not yet
  // due), <prefix>.dlq.<type> (dead letters).
  std::string subject_prefix = "brisk";
  std::string stream = "BRISK_TASKS";            // work-queue retention
  std::string dead_letter_stream = "BRISK_DLQ";  // limits retention: kept until replayed or purged
  // Create the streams when missing (an operator may create them instead;
  // existing streams are used as they are).
  bool create_streams = true;
  int replicas = 1;                  // 3 on a 3-node cluster (docs/cluster.md)
  std::int64_t max_msgs = -1;        // stream limits (-1: none); at a limit submissions are refused
  std::int64_t max_bytes = -1;
  // Nats-Msg-Id deduplication window: a second submission with the same
  // idempotency key within it is answered `duplicate`.
  std::chrono::nanoseconds duplicate_window = 2min;
  // A publish not acknowledged within this is answered durability_failed.
  std::chrono::milliseconds publish_timeout = 5s;
  // Publishes awaiting their acknowledgement at once; beyond it submit()
  // answers rejected_backpressure.
  std::size_t max_pending_publishes = 8192;
  // Answers kept for is_durable / wait_durable / answer, the newest first;
  // asking about an older ticket answers "forgotten".
  std::size_t answer_history = 1u << 16;
};

// What JetStream finally said about a submission.
struct PublishAnswer {
  enum class State : std::uint8_t { pending, stored, refused, forgotten };
  State state = State::pending;
  // stored: accepted or duplicate; refused: rejected_full (stream at its
  // limits), durability_failed (server away, timeout), ...
  SubmitStatus status = SubmitStatus::accepted;
  std::string_view reason;     // static text for refusals
  std::uint64_t stream_sequence = 0;  // where it was stored (the original's when duplicate)
};

// A dead letter in the dead-letter stream (any node can list and replay it).
struct ClusterDeadLetter {
  std::uint64_t sequence = 0;  // in the dead-letter stream
  std::string type;
  std::string payload;
  std::string idempotency_key;
  std::uint32_t attempts = 0;
  std::string last_error;
};

// What the streams and their consumers hold now, as JetStream reports it
// (Client::status). One consumer per task type (its delayed-task consumer
// too); the counts are the server's, across every node.
struct ConsumerStatus {
  std::string name;
  std::string filter_subject;     // <prefix>.tasks.<type> or <prefix>.delayed.<type>
  std::uint64_t pending = 0;      // in the stream, not yet delivered
  std::int64_t ack_pending = 0;   // delivered, not yet acknowledged (running, or a lease not yet expired)
  std::int64_t redelivered = 0;   // delivered more than once and not yet acknowledged
  std::int64_t waiting = 0;       // fetch requests waiting at the server (idle nodes)
};

struct ClusterStatus {
  std::uint64_t task_messages = 0;  // queued, delayed, in flight or backing off
  std::uint64_t task_bytes = 0;
  std::vector<ConsumerStatus> consumers;
  // Dead letters per task type, from the dead-letter stream's subjects.
  std::vector<std::pair<std::string, std::uint64_t>> dead_letters_by_type;
  std::uint64_t dead_letters = 0;
};

class Client {
 public:
  // Connects and makes sure the streams exist. Throws ClusterError.
  explicit Client(ClientConfig config = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Publishes a named task to <prefix>.tasks.<type> (or .delayed. when
  // options.delay / run_at_ns put it in the future). Returns at once:
  // accepted with a durable_ticket (JetStream's acknowledgement arrives
  // asynchronously: is_durable / wait_durable / answer), or an explicit
  // refusal: invalid (bad type name), rejected_backpressure (too many
  // publishes in flight), durability_failed (not connected).
  // options.durability is ignored: a cluster submission is always durable.
  SubmitResult submit(std::string_view type, std::string_view payload, const TaskOptions& options = {});

  // True once JetStream stored it (or found it a duplicate of a stored one).
  bool is_durable(const SubmitResult& result) const;
  // Blocks until JetStream answers (at most publish_timeout plus a margin):
  // true when stored, false when refused (answer() says why).
  bool wait_durable(const SubmitResult& result) const;
  PublishAnswer answer(const SubmitResult& result) const;
  // Waits for every publish in flight to be answered.
  void flush() const;

  // Dead letters, oldest first (at most `limit`).
  std::vector<ClusterDeadLetter> dead_letters(std::size_t limit = 1000);
  // Republishes the letter as a fresh task (attempt 1) and removes it.
  SubmitResult replay_dead_letter(std::uint64_t sequence);
  std::size_t purge_dead_letters();
  // Messages in the task stream (queued, delayed, in flight, backing off).
  std::uint64_t stream_messages();
  // Both streams and every consumer of the task stream (ClusterStatus).
  // Throws ClusterError when the server does not answer.
  ClusterStatus status();
  // Prometheus text: the connection (brisk_cluster_connected, reconnects),
  // publishes awaiting their acknowledgement and, while connected, the
  // server's view (stream messages; per consumer pending, ack_pending,
  // redelivered, waiting; dead letters per type). docs/cluster.md lists them.
  std::string prometheus_text();

  const ClientConfig& config() const noexcept;

  struct Impl;

 private:
  friend class Worker;
  std::unique_ptr<Impl> impl_;
};

struct WorkerConfig {
  // Lease: a delivered task not acknowledged within ack_wait is redelivered
  // (to any node). A running task's lease is extended by in-progress acks
  // from the worker's own thread, every ack_wait / 3.
  std::chrono::milliseconds ack_wait = 30s;
  // Delivered and unacknowledged tasks per type across all nodes.
  std::int64_t max_ack_pending = 20'000;
  // How long one fetch waits for messages before asking again.
  std::chrono::milliseconds fetch_wait = 250ms;
  // Tasks fetched at most in one request.
  int max_batch = 256;
  // Promote delayed tasks that became due (every node may; off for a node
  // that should only execute).
  bool promote_delayed = true;
};

struct ConsumeOptions {
  // Tasks of this type fetched and not yet finished in this process: fetches
  // ask for exactly the free ones. 0: 64.
  std::uint32_t max_in_flight = 0;
};

// Both the client and the engine must outlive the worker: stop or destroy
// the worker first (its tasks run on the engine, its acks go through the
// client's connection).
class Worker {
 public:
  Worker(Client& client, Engine& engine, WorkerConfig config = {});
  // Stops (see stop()).
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Registers a handler for tasks of `type` from the cluster; registers a
  // wrapper with the local engine, so call it before engine.start().
  // options.retry drives redelivery (nak with the backoff delay) and
  // dead-lettering; max_concurrency, rate_per_second, burst, soft_timeout
  // apply locally. hard_timeout: an attempt still running then is given up
  // (a retry, or a dead letter when it was the last attempt: any node may
  // run the next one) and its handler sees cancellation_requested(); the
  // handler's thread cannot be taken back, so its local slot and worker
  // stay busy until it returns, and what it returns then is ignored.
  template <class F>
  void register_task(std::string type, F&& handler, TaskTypeOptions options = {},
                     ConsumeOptions consume = {}) {
    if constexpr (std::is_same_v<std::invoke_result_t<F&, TaskContext&>, void>) {
      register_handler(std::move(type),
                       [h = std::forward<F>(handler)](TaskContext& ctx) mutable {
                         h(ctx);
                         return Outcome::success();
                       },
                       options, consume);
    } else {
      register_handler(std::move(type), Handler(std::forward<F>(handler)), options, consume);
    }
  }

  // Creates or binds the pull consumers and starts fetching. The engine
  // must have been started. Throws ClusterError.
  void start();
  // Stops fetching, waits for the tasks already fetched to finish and be
  // acknowledged (or naked). Idempotent.
  void stop();

  struct Stats {
    std::uint64_t fetched = 0;
    std::uint64_t acked = 0;
    std::uint64_t naked = 0;           // retries (backoff) and local refusals
    std::uint64_t dead_lettered = 0;
    std::uint64_t in_progress_sent = 0;
    std::uint64_t delayed_promoted = 0;
    std::uint64_t delayed_naked = 0;
    std::uint64_t redelivered = 0;     // fetched with a delivery count above 1
    std::uint64_t hard_timeouts = 0;   // attempts given up at the type's hard_timeout
  };
  Stats stats() const;
  // Prometheus text of this process's consumption: the Stats counters, and
  // per type the tasks in flight and the fetch credits (free slots). From
  // start() to stop() the engine's prometheus_text() and /metrics include
  // it, followed by the client's.
  std::string prometheus_text() const;

  struct Impl;

 private:
  void register_handler(std::string type, Handler handler, const TaskTypeOptions& options,
                        const ConsumeOptions& consume);
  std::unique_ptr<Impl> impl_;
};

}  // namespace brisk::cluster

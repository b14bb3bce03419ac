// brisk::cluster's metrics in the Prometheus text format: what this process
// holds (the client's connection and publishes, the worker's fetch credits
// and settled messages) and what the server reports for every node (the
// stream, its consumers, the dead letters). Worker::start() adds them to the
// engine's /metrics (Engine::add_metrics_source); docs/cluster.md lists
// them. Type and consumer names are [A-Za-z0-9_-] (valid_token), so labels
// need no escaping.
#include <cstdio>
#include <string>
#include <string_view>

#include "internal.hpp"
#include "worker_impl.hpp"

namespace brisk::cluster {
namespace {

class PromWriter {
 public:
  explicit PromWriter(std::string& out) : out_(out) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  }
  void sample(std::string_view name, double value) { sample(name, {}, {}, value); }
  void sample(std::string_view name, std::string_view label, std::string_view label_value, double value) {
    out_.append(name);
    if (!label.empty()) out_.append("{").append(label).append("=\"").append(label_value).append("\"}");
    char number[32];
    std::snprintf(number, sizeof number, " %.17g\n", value);
    out_.append(number);
  }
  // One family with one unlabelled sample.
  void single(std::string_view name, std::string_view type, std::string_view help, double value) {
    family(name, type, help);
    sample(name, value);
  }

 private:
  std::string& out_;
};

double d(std::uint64_t v) { return static_cast<double>(v); }

}  // namespace

std::string Client::prometheus_text() {
  std::string out;
  PromWriter w(out);
  const bool connected = natsConnection_Status(impl_->nc) == NATS_CONN_STATUS_CONNECTED;
  w.single("brisk_cluster_connected", "gauge", "1 while the NATS connection is up, 0 while it is reconnecting.",
           connected ? 1 : 0);
  natsStatistics* stats = nullptr;
  std::uint64_t reconnects = 0;
  if (natsStatistics_Create(&stats) == NATS_OK) {
    if (natsConnection_GetStats(impl_->nc, stats) == NATS_OK)
      natsStatistics_GetCounts(stats, nullptr, nullptr, nullptr, nullptr, &reconnects);
    natsStatistics_Destroy(stats);
  }
  w.single("brisk_cluster_reconnects_total", "counter", "Times this process reconnected to NATS.", d(reconnects));
  std::size_t publishing = 0;
  {
    std::lock_guard lock(impl_->mu);
    publishing = impl_->in_flight.size();
  }
  w.single("brisk_cluster_publishes_in_flight", "gauge",
           "Submissions published and not yet acknowledged by JetStream (bounded by max_pending_publishes).",
           d(publishing));

  // The server's view, for every node. Skipped while reconnecting: a scrape
  // must not wait for a server that is away.
  ClusterStatus status;
  bool answered = false;
  if (connected) {
    try {
      status = this->status();
      answered = true;
    } catch (const ClusterError&) {
    }
  }
  w.single("brisk_cluster_server_answered", "gauge",
           "1 when JetStream answered this scrape's stream and consumer queries; the stream metrics below need it.",
           answered ? 1 : 0);
  if (!answered) return out;
  w.single("brisk_cluster_stream_messages", "gauge", "Task messages in the stream: queued, delayed, in flight, backing off.",
           d(status.task_messages));
  w.single("brisk_cluster_stream_bytes", "gauge", "Bytes of the task stream.", d(status.task_bytes));
  const auto per_consumer = [&](std::string_view name, std::string_view help, auto field) {
    w.family(name, "gauge", help);
    for (const ConsumerStatus& c : status.consumers) w.sample(name, "consumer", c.name, static_cast<double>(field(c)));
  };
  per_consumer("brisk_cluster_consumer_pending", "Messages not yet delivered to any node.",
               [](const ConsumerStatus& c) { return c.pending; });
  per_consumer("brisk_cluster_consumer_ack_pending",
               "Delivered and not yet acknowledged, on every node (running, or a lease not yet expired).",
               [](const ConsumerStatus& c) { return c.ack_pending; });
  per_consumer("brisk_cluster_consumer_redelivered", "Delivered more than once and not yet acknowledged.",
               [](const ConsumerStatus& c) { return c.redelivered; });
  per_consumer("brisk_cluster_consumer_waiting", "Fetch requests waiting at the server (idle nodes).",
               [](const ConsumerStatus& c) { return c.waiting; });
  w.family("brisk_cluster_dead_letters", "gauge", "Dead letters held in the dead-letter stream, by task type.");
  for (const auto& [type, count] : status.dead_letters_by_type) w.sample("brisk_cluster_dead_letters", "type", type, d(count));
  return out;
}

std::string Worker::prometheus_text() const {
  const Impl& impl = *impl_;
  std::string out;
  PromWriter w(out);
  const detail::Counters& c = impl.counters;
  // Relaxed loads: each counter is a monotonic count read on its own.
  const auto counter = [&](std::string_view name, std::string_view help, const std::atomic<std::uint64_t>& v) {
    w.single(name, "counter", help, d(v.load(std::memory_order_relaxed)));
  };
  counter("brisk_cluster_fetched_total", "Messages this process fetched.", c.fetched);
  counter("brisk_cluster_acked_total", "Tasks this process acknowledged (succeeded).", c.acked);
  counter("brisk_cluster_naked_total", "Negative acks sent: retries with backoff and local refusals.", c.naked);
  counter("brisk_cluster_dead_lettered_total", "Tasks this process moved to the dead-letter stream.", c.dead_lettered);
  counter("brisk_cluster_in_progress_acks_total", "Lease extensions sent for tasks held longer than ack_wait / 3.",
          c.in_progress_sent);
  counter("brisk_cluster_redelivered_total", "Messages fetched with a delivery count above 1.", c.redelivered);
  counter("brisk_cluster_hard_timeouts_total", "Attempts given up at their type's hard_timeout.", c.hard_timeouts);
  counter("brisk_cluster_delayed_promoted_total", "Delayed tasks moved to the work subjects once due.",
          c.delayed_promoted);
  counter("brisk_cluster_delayed_naked_total", "Delayed tasks fetched early and put back with their remaining delay.",
          c.delayed_naked);
  w.family("brisk_cluster_in_flight", "gauge", "Tasks fetched by this process and not yet settled (ack, nak or term).");
  for (const auto& t : impl.types) {
    std::lock_guard lock(t->free_mu);
    w.sample("brisk_cluster_in_flight", "type", t->name, static_cast<double>(t->max_in_flight - t->free.size()));
  }
  w.family("brisk_cluster_fetch_credits", "gauge", "Free slots: what this process's next fetch asks the server for.");
  for (const auto& t : impl.types) {
    std::lock_guard lock(t->free_mu);
    w.sample("brisk_cluster_fetch_credits", "type", t->name, static_cast<double>(t->free.size()));
  }
  return out;
}

}  // namespace brisk::cluster

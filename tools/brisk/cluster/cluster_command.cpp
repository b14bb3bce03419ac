// The `brisk cluster` commands: one brisk::cluster::Client per run, its
// answers printed as a person reads them (or as JSON lines with --json).
#include "brisk/cluster/cluster_command.hpp"

#include <CLI/CLI.hpp>
#include <brisk/cluster.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace brisk::tools {
namespace {

namespace bc = brisk::cluster;

struct ClusterOptions {
  std::vector<std::string> servers{"nats://127.0.0.1:4222"};
  std::string subject_prefix = "brisk";
  std::string stream = "BRISK_TASKS";
  std::string dead_letter_stream = "BRISK_DLQ";
  bool json = false;
  // submit
  std::string type;
  std::string payload;
  std::string payload_file;
  std::string key;
  std::int64_t delay_ms = 0;
  int priority = 1;
  // dlq
  std::size_t limit = 100;
  std::uint64_t sequence = 0;
};

// The streams are the workers' to create: the tool only uses existing ones,
// so a typo in --stream is an error, not a new empty stream.
std::unique_ptr<bc::Client> connect(const ClusterOptions& o) {
  bc::ClientConfig cc;
  cc.servers = o.servers;
  cc.subject_prefix = o.subject_prefix;
  cc.stream = o.stream;
  cc.dead_letter_stream = o.dead_letter_stream;
  cc.create_streams = false;
  cc.connection_name = "brisk-cli";
  return std::make_unique<bc::Client>(cc);
}

int submit(const ClusterOptions& o, bc::Client& client) {
  std::string payload = o.payload;
  if (!o.payload_file.empty()) {
    std::ifstream in(o.payload_file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "brisk cluster submit: cannot read %s\n", o.payload_file.c_str());
      return 1;
    }
    payload.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  TaskOptions options;
  options.idempotency_key = o.key;
  options.delay = std::chrono::milliseconds(o.delay_ms);
  options.priority = static_cast<Priority>(o.priority);
  const SubmitResult r = client.submit(o.type, payload, options);
  const bool stored = r && client.wait_durable(r);
  const bc::PublishAnswer a = client.answer(r);
  const std::string status(to_string(r ? a.status : r.status));
  const std::string reason(r ? a.reason : r.reason);
  if (o.json) {
    std::printf("%s\n", nlohmann::json{{"stored", stored},
                                       {"status", status},
                                       {"reason", reason},
                                       {"stream_sequence", a.stream_sequence}}
                            .dump()
                            .c_str());
  } else if (stored) {
    std::printf("%s: stream sequence %llu\n", status.c_str(), static_cast<unsigned long long>(a.stream_sequence));
  } else {
    std::printf("refused (%s): %s\n", status.c_str(), reason.c_str());
  }
  return stored ? 0 : 1;
}

int status(const ClusterOptions& o, bc::Client& client) {
  const bc::ClusterStatus st = client.status();
  if (o.json) {
    nlohmann::json consumers = nlohmann::json::array();
    for (const bc::ConsumerStatus& c : st.consumers)
      consumers.push_back({{"name", c.name},
                           {"filter_subject", c.filter_subject},
                           {"pending", c.pending},
                           {"ack_pending", c.ack_pending},
                           {"redelivered", c.redelivered},
                           {"waiting", c.waiting}});
    nlohmann::json letters = nlohmann::json::object();
    for (const auto& [type, n] : st.dead_letters_by_type) letters[type] = n;
    std::printf("%s\n", nlohmann::json{{"stream", o.stream},
                                       {"messages", st.task_messages},
                                       {"bytes", st.task_bytes},
                                       {"consumers", consumers},
                                       {"dead_letter_stream", o.dead_letter_stream},
                                       {"dead_letters", st.dead_letters},
                                       {"dead_letters_by_type", letters}}
                            .dump()
                            .c_str());
    return 0;
  }
  std::printf("%s: %llu tasks, %llu bytes (queued, delayed, in flight or backing off)\n", o.stream.c_str(),
              static_cast<unsigned long long>(st.task_messages), static_cast<unsigned long long>(st.task_bytes));
  std::printf("\n%-28s %10s %12s %12s %8s\n", "consumer", "pending", "ack pending", "redelivered", "waiting");
  for (const bc::ConsumerStatus& c : st.consumers)
    std::printf("%-28s %10llu %12lld %12lld %8lld\n", c.name.c_str(), static_cast<unsigned long long>(c.pending),
                static_cast<long long>(c.ack_pending), static_cast<long long>(c.redelivered),
                static_cast<long long>(c.waiting));
  if (st.consumers.empty()) std::printf("(none: no worker has bound a consumer yet)\n");
  std::printf("\n%s: %llu dead letters\n", o.dead_letter_stream.c_str(),
              static_cast<unsigned long long>(st.dead_letters));
  for (const auto& [type, n] : st.dead_letters_by_type)
    std::printf("  %-26s %10llu\n", type.c_str(), static_cast<unsigned long long>(n));
  return 0;
}

int list_letters(const ClusterOptions& o, bc::Client& client) {
  for (const bc::ClusterDeadLetter& d : client.dead_letters(o.limit)) {
    if (o.json) {
      std::printf("%s\n", nlohmann::json{{"sequence", d.sequence},
                                         {"type", d.type},
                                         {"idempotency_key", d.idempotency_key},
                                         {"attempts", d.attempts},
                                         {"last_error", d.last_error},
                                         {"payload_bytes", d.payload.size()}}
                              .dump()
                              .c_str());
    } else {
      std::printf("%llu  %s  key=%s  attempts=%u  %zu bytes  %s\n", static_cast<unsigned long long>(d.sequence),
                  d.type.c_str(), d.idempotency_key.empty() ? "-" : d.idempotency_key.c_str(), d.attempts,
                  d.payload.size(), d.last_error.c_str());
    }
  }
  return 0;
}

int replay_letter(const ClusterOptions& o, bc::Client& client) {
  const SubmitResult r = client.replay_dead_letter(o.sequence);
  if (!r || !client.wait_durable(r)) {
    std::printf("not replayed (%s): %.*s\n", std::string(to_string(r.status)).c_str(),
                static_cast<int>(r.reason.size()), r.reason.data());
    return 1;
  }
  std::printf("replayed dead letter %llu\n", static_cast<unsigned long long>(o.sequence));
  return 0;
}

int purge_letters(const ClusterOptions&, bc::Client& client) {
  std::printf("purged %zu dead letters\n", client.purge_dead_letters());
  return 0;
}

using Run = std::function<int(const ClusterOptions&, bc::Client&)>;

// Connects, runs, exits: a cluster that cannot be reached (or a stream that
// does not exist) is exit status 2 with the server's answer.
void run_and_exit(const ClusterOptions& o, const Run& run) {
  int code = 2;
  try {
    std::unique_ptr<bc::Client> client = connect(o);
    code = run(o, *client);
  } catch (const bc::ClusterError& e) {
    std::fprintf(stderr, "brisk cluster: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "brisk cluster: %s\n", e.what());
    code = 1;
  }
  std::exit(code);
}

}  // namespace

void add_cluster_commands(CLI::App& app) {
  auto o = std::make_shared<ClusterOptions>();
  CLI::App* cluster = app.add_subcommand("cluster", "Submit to, inspect and manage a brisk::cluster on NATS JetStream");
  cluster->require_subcommand(1);
  cluster->add_option("--server", o->servers, "NATS server URL (repeatable)")->capture_default_str();
  cluster->add_option("--prefix", o->subject_prefix, "subject prefix")->capture_default_str();
  cluster->add_option("--stream", o->stream, "task stream")->capture_default_str();
  cluster->add_option("--dlq-stream", o->dead_letter_stream, "dead-letter stream")->capture_default_str();
  cluster->add_flag("--json", o->json, "one JSON object per line");

  CLI::App* submit_cmd = cluster->add_subcommand("submit", "Publish a task; exit 0 once JetStream stored it");
  submit_cmd->add_option("type", o->type, "task type")->required();
  auto* inline_payload = submit_cmd->add_option("--payload", o->payload, "payload text");
  submit_cmd->add_option("--payload-file", o->payload_file, "payload from a file")->excludes(inline_payload);
  submit_cmd->add_option("--key", o->key, "idempotency key (Nats-Msg-Id)");
  submit_cmd->add_option("--delay-ms", o->delay_ms, "run no earlier than this from now")->check(CLI::NonNegativeNumber);
  submit_cmd->add_option("--priority", o->priority, "0 high, 1 normal, 2 low")->check(CLI::Range(0, 2));
  submit_cmd->callback([o] { run_and_exit(*o, submit); });

  CLI::App* status_cmd =
      cluster->add_subcommand("status", "The streams, each consumer's pending, ack pending, redelivered, dead letters per type");
  status_cmd->callback([o] { run_and_exit(*o, status); });

  CLI::App* dlq = cluster->add_subcommand("dlq", "Dead letters: list, replay, purge");
  dlq->require_subcommand(1);
  CLI::App* list_cmd = dlq->add_subcommand("list", "Dead letters, oldest first");
  list_cmd->add_option("--limit", o->limit, "at most this many")->capture_default_str();
  list_cmd->callback([o] { run_and_exit(*o, list_letters); });
  CLI::App* replay_cmd = dlq->add_subcommand("replay", "Republish one as a fresh task (attempt 1) and remove it");
  replay_cmd->add_option("sequence", o->sequence, "its sequence in the dead-letter stream (dlq list)")->required();
  replay_cmd->callback([o] { run_and_exit(*o, replay_letter); });
  CLI::App* purge_cmd = dlq->add_subcommand("purge", "Remove every dead letter");
  purge_cmd->callback([o] { run_and_exit(*o, purge_letters); });
}

}  // namespace brisk::tools

// brisk_cluster_bench: end-to-end throughput of brisk::cluster (issue 16),
// beside a raw JetStream pull-fetch-ack loop written directly against
// libnats, in one run, against one nats-server -js this program starts on
// loopback (file storage, a temporary store directory).
//
// A run: N node processes (this program re-executed with --node) bind their
// consumers and say "ready"; the parent then publishes T tasks (64-byte
// payload) as fast as the in-flight bound allows and waits until the work
// queue is empty, which is when the last task was acknowledged. The time
// counts from the first publish to the empty stream: publish -> store ->
// fetch -> execute -> ack, everything included.
//   brisk  Client::submit (async publishes, at most 8192 in flight) and, per
//          node, a Worker feeding an Engine (1 worker thread) an empty handler
//   raw    js_PublishAsync (at most 8192 in flight) and, per node, a loop of
//          natsSubscription_Fetch(batch 256) + natsMsg_Ack per message
//   redis  Redis Streams, the queue people build on Redis for the same job:
//          pipelined XADD (8192 per pipeline) and, per node, a consumer
//          group loop of XREADGROUP COUNT 256 + pipelined XACK and XDEL (a
//          work queue: the stream is empty once every task is acknowledged)
//          against a redis-server this program starts on loopback with
//          appendonly yes, appendfsync everysec: like JetStream's file store,
//          an acknowledged write survives kill -9 of the server, not a power
//          cut within the last second (docs/cluster.md)
// Repetitions are interleaved; the table gives medians [min-max] and the
// load average before and after the run (everything shares this machine:
// the server, the publisher and the nodes).
//
//   brisk_cluster_bench                     full run
//   brisk_cluster_bench --short             CI: tiny sizes, checks it runs
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <nats/nats.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "brisk/brisk.hpp"
#include "brisk/cluster.hpp"
#include "nats_server.hpp"
#include "redis_server.hpp"

namespace {

using namespace std::chrono_literals;
namespace bc = brisk::cluster;

constexpr int kMaxInFlightPublishes = 8192;

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

void check(natsStatus s, const char* what) {
  if (s != NATS_OK) throw std::runtime_error(std::string(what) + ": " + natsStatus_GetText(s));
}

// ---- node processes ----

volatile sig_atomic_t g_stop = 0;

void ready() {
  std::fputs("ready\n", stdout);
  std::fflush(stdout);
}

int run_brisk_node(const std::string& url, const std::string& stream) {
  bc::ClientConfig cc;
  cc.servers = {url};
  cc.stream = stream;
  cc.subject_prefix = stream;
  cc.dead_letter_stream = stream + "_DLQ";
  bc::Client client(cc);
  brisk::EngineConfig ec;
  ec.workers = 1;
  ec.pin_workers = false;
  brisk::Engine engine(ec);
  bc::WorkerConfig wc;
  wc.promote_delayed = false;
  bc::Worker worker(client, engine, wc);
  worker.register_task("t", [](brisk::TaskContext&) {}, {}, {.max_in_flight = 512});
  engine.start();
  worker.start();
  ready();
  while (g_stop == 0) std::this_thread::sleep_for(10ms);
  worker.stop();
  engine.shutdown();
  return 0;
}

int run_raw_node(const std::string& url, const std::string& stream) {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  check(natsConnection_ConnectTo(&nc, url.c_str()), "connect");
  check(natsConnection_JetStream(&js, nc, nullptr), "jetstream");
  const std::string durable = stream + "_c";
  const std::string subject = stream + ".t";
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Consumer = durable.c_str();
  natsSubscription* sub = nullptr;
  jsErrCode jerr{};
  check(js_PullSubscribe(&sub, js, subject.c_str(), durable.c_str(), nullptr, &so, &jerr), "pull subscribe");
  ready();
  while (g_stop == 0) {
    natsMsgList list{};
    const natsStatus s = natsSubscription_Fetch(&list, sub, 256, 250, &jerr);
    if (s == NATS_OK) {
      for (int i = 0; i < list.Count; ++i) natsMsg_Ack(list.Msgs[i], nullptr);
    }
    natsMsgList_Destroy(&list);
  }
  natsSubscription_Destroy(sub);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return 0;
}

// A node of the redis system: `server` is the redis-server's port.
int run_redis_node(const std::string& port, const std::string& stream) {
  redisContext* c = redisConnect("127.0.0.1", std::stoi(port));
  if (c == nullptr || c->err != 0) throw std::runtime_error("cannot connect to redis-server");
  const std::string consumer = "node-" + std::to_string(::getpid());
  ready();
  while (g_stop == 0) {
    auto* reply = static_cast<redisReply*>(redisCommand(c, "XREADGROUP GROUP g %s COUNT 256 BLOCK 250 STREAMS %s >",
                                                        consumer.c_str(), stream.c_str()));
    if (reply == nullptr) throw std::runtime_error("redis connection lost");
    // [[stream, [[id, [field, value]], ...]]], or nil after BLOCK ms.
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1) {
      const redisReply* entries = reply->element[0]->element[1];
      for (std::size_t i = 0; i < entries->elements; ++i) {
        const redisReply* id = entries->element[i]->element[0];  // the task runs here (empty)
        redisAppendCommand(c, "XACK %s g %b", stream.c_str(), id->str, id->len);
        redisAppendCommand(c, "XDEL %s %b", stream.c_str(), id->str, id->len);
      }
      for (std::size_t i = 0; i < 2 * entries->elements; ++i) {
        void* ack = nullptr;
        if (redisGetReply(c, &ack) != REDIS_OK) throw std::runtime_error("redis connection lost");
        freeReplyObject(ack);
      }
    }
    freeReplyObject(reply);
  }
  redisFree(c);
  return 0;
}

// ---- the parent ----

struct Node {
  pid_t pid = -1;
  FILE* out = nullptr;
};

std::vector<Node> spawn_nodes(const std::string& kind, int count, const std::string& url, const std::string& stream) {
  std::vector<Node> nodes;
  for (int i = 0; i < count; ++i) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execl("/proc/self/exe", "brisk_cluster_bench", "--node", kind.c_str(), "--server", url.c_str(), "--stream",
              stream.c_str(), static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    ::close(fds[1]);
    nodes.push_back({pid, ::fdopen(fds[0], "r")});
  }
  for (auto& n : nodes) {
    char line[64] = {};
    if (std::fgets(line, sizeof line, n.out) == nullptr || std::string(line) != "ready\n")
      throw std::runtime_error("a node process did not start");
  }
  return nodes;
}

void stop_nodes(std::vector<Node>& nodes) {
  for (auto& n : nodes) ::kill(n.pid, SIGTERM);
  for (auto& n : nodes) {
    ::waitpid(n.pid, nullptr, 0);
    std::fclose(n.out);
  }
}

std::uint64_t stream_msgs(jsCtx* js, const std::string& stream) {
  jsStreamInfo* si = nullptr;
  jsErrCode jerr{};
  check(js_GetStreamInfo(&si, js, stream.c_str(), nullptr, &jerr), "stream info");
  const std::uint64_t n = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  return n;
}

// Waits until the work queue is empty (every task acknowledged).
void wait_empty(jsCtx* js, const std::string& stream, double limit_s) {
  const double deadline = now_s() + limit_s;
  while (stream_msgs(js, stream) != 0) {
    if (now_s() > deadline) throw std::runtime_error("tasks still in " + stream + " after the time limit");
    std::this_thread::sleep_for(2ms);
  }
}

// One brisk run: tasks/s end to end.
double run_brisk(const std::string& url, jsCtx* admin, int nodes_count, std::uint64_t tasks, int round) {
  const std::string stream = "B" + std::to_string(nodes_count) + "R" + std::to_string(round);
  bc::ClientConfig cc;
  cc.servers = {url};
  cc.stream = stream;
  cc.subject_prefix = stream;
  cc.dead_letter_stream = stream + "_DLQ";
  cc.max_pending_publishes = kMaxInFlightPublishes;
  cc.answer_history = 1024;
  bc::Client client(cc);
  std::vector<Node> nodes = spawn_nodes("brisk", nodes_count, url, stream);
  const std::string payload(64, 'p');
  const double start = now_s();
  for (std::uint64_t i = 0; i < tasks;) {
    const brisk::SubmitResult r = client.submit("t", payload);
    if (r) {
      ++i;
    } else if (r.status == brisk::SubmitStatus::rejected_backpressure) {
      std::this_thread::sleep_for(20us);
    } else {
      throw std::runtime_error("brisk submit refused: " + std::string(r.reason));
    }
  }
  client.flush();
  wait_empty(admin, stream, 600);
  const double elapsed = now_s() - start;
  stop_nodes(nodes);
  jsErrCode jerr{};
  js_DeleteStream(admin, stream.c_str(), nullptr, &jerr);
  js_DeleteStream(admin, (stream + "_DLQ").c_str(), nullptr, &jerr);
  return static_cast<double>(tasks) / elapsed;
}

double run_raw(const std::string& url, natsConnection* nc, int nodes_count, std::uint64_t tasks, int round) {
  const std::string stream = "RAW" + std::to_string(nodes_count) + "R" + std::to_string(round);
  const std::string subject = stream + ".t";
  jsCtx* js = nullptr;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = kMaxInFlightPublishes;
  check(natsConnection_JetStream(&js, nc, &jo), "jetstream");
  const char* subjects[] = {subject.c_str()};
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = stream.c_str();
  sc.Subjects = subjects;
  sc.SubjectsLen = 1;
  sc.Retention = js_WorkQueuePolicy;
  sc.Storage = js_FileStorage;
  sc.Discard = js_DiscardNew;
  jsStreamInfo* si = nullptr;
  jsErrCode jerr{};
  check(js_AddStream(&si, js, &sc, nullptr, &jerr), "add stream");
  jsStreamInfo_Destroy(si);
  const std::string durable = stream + "_c";
  jsConsumerConfig cfg;
  jsConsumerConfig_Init(&cfg);
  cfg.Durable = durable.c_str();
  cfg.AckPolicy = js_AckExplicit;
  cfg.AckWait = std::chrono::nanoseconds(30s).count();
  cfg.MaxAckPending = 20'000;
  jsConsumerInfo* ci = nullptr;
  check(js_AddConsumer(&ci, js, stream.c_str(), &cfg, nullptr, &jerr), "add consumer");
  jsConsumerInfo_Destroy(ci);
  std::vector<Node> nodes = spawn_nodes("raw", nodes_count, url, stream);
  const std::string payload(64, 'p');
  const double start = now_s();
  for (std::uint64_t i = 0; i < tasks; ++i) {
    // Blocks (StallWait) while MaxPending publishes are in flight.
    while (js_PublishAsync(js, subject.c_str(), payload.data(), static_cast<int>(payload.size()), nullptr) !=
           NATS_OK) {
    }
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 60'000;
  check(js_PublishAsyncComplete(js, &po), "publish complete");
  wait_empty(js, stream, 600);
  const double elapsed = now_s() - start;
  stop_nodes(nodes);
  js_DeleteStream(js, stream.c_str(), nullptr, &jerr);
  jsCtx_Destroy(js);
  return static_cast<double>(tasks) / elapsed;
}

long long redis_integer(redisContext* c, const std::string& command) {
  auto* reply = static_cast<redisReply*>(redisCommand(c, command.c_str()));
  if (reply == nullptr || reply->type == REDIS_REPLY_ERROR)
    throw std::runtime_error(command + ": " + (reply != nullptr ? reply->str : "connection lost"));
  const long long n = reply->integer;
  freeReplyObject(reply);
  return n;
}

double run_redis(const brisk_bench::RedisServer& server, int port, int nodes_count, std::uint64_t tasks, int round) {
  const std::string stream = "R" + std::to_string(nodes_count) + "R" + std::to_string(round);
  redisContext* c = server.connect();
  if (c == nullptr) throw std::runtime_error("cannot connect to redis-server");
  freeReplyObject(redisCommand(c, "XGROUP CREATE %s g $ MKSTREAM", stream.c_str()));
  std::vector<Node> nodes = spawn_nodes("redis", nodes_count, std::to_string(port), stream);
  const std::string payload(64, 'p');
  const double start = now_s();
  for (std::uint64_t sent = 0; sent < tasks;) {
    // A pipeline of up to 8192 XADDs, then their replies (the acknowledgements).
    const std::uint64_t batch = std::min<std::uint64_t>(kMaxInFlightPublishes, tasks - sent);
    for (std::uint64_t i = 0; i < batch; ++i)
      redisAppendCommand(c, "XADD %s * p %b", stream.c_str(), payload.data(), payload.size());
    for (std::uint64_t i = 0; i < batch; ++i, ++sent) {
      void* reply = nullptr;
      if (redisGetReply(c, &reply) != REDIS_OK || static_cast<redisReply*>(reply)->type != REDIS_REPLY_STRING)
        throw std::runtime_error("XADD refused");
      freeReplyObject(reply);
    }
  }
  for (const double deadline = now_s() + 600; redis_integer(c, "XLEN " + stream) != 0;) {
    if (now_s() > deadline) throw std::runtime_error("tasks still in " + stream + " after the time limit");
    std::this_thread::sleep_for(2ms);
  }
  const double elapsed = now_s() - start;
  stop_nodes(nodes);
  redis_integer(c, "DEL " + stream);
  redisFree(c);
  return static_cast<double>(tasks) / elapsed;
}

std::string cell(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  char buf[96];
  std::snprintf(buf, sizeof buf, "%8.0f [%.0f-%.0f]", v[v.size() / 2], v.front(), v.back());
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"brisk::cluster end-to-end throughput beside a raw JetStream pull-fetch-ack loop"};
  std::string node_kind;
  std::string server;
  std::string stream;
  std::uint64_t tasks = 50'000;
  int rounds = 3;
  bool short_run = false;
  app.add_option("--node", node_kind, "internal: run as a node process (brisk, raw or redis)");
  app.add_option("--server", server, "internal: the server URL of a node process");
  app.add_option("--stream", stream, "internal: the stream of a node process");
  app.add_option("--tasks", tasks, "tasks per run");
  app.add_option("--rounds", rounds, "repetitions (interleaved)");
  app.add_flag("--short", short_run, "CI: tiny sizes, one round");
  CLI11_PARSE(app, argc, argv);

  if (!node_kind.empty()) {
    struct sigaction sa {};
    sa.sa_handler = [](int) { g_stop = 1; };
    ::sigaction(SIGTERM, &sa, nullptr);
    if (node_kind == "redis") return run_redis_node(server, stream);
    return node_kind == "brisk" ? run_brisk_node(server, stream) : run_raw_node(server, stream);
  }
  if (short_run) {
    tasks = 2000;
    rounds = 1;
  }
  try {
    brisk_test::NatsServer nats;
    const int redis_port = brisk_test::free_loopback_port();
    brisk_bench::RedisServer redis(std::filesystem::temp_directory_path().string(), "everysec", redis_port);
    natsConnection* nc = nullptr;
    check(natsConnection_ConnectTo(&nc, nats.url().c_str()), "connect");
    jsCtx* admin = nullptr;
    check(natsConnection_JetStream(&admin, nc, nullptr), "jetstream");
    const std::string load_before = loadavg();
    std::map<std::string, std::vector<double>> results;
    for (int round = 0; round < rounds; ++round) {
      for (int nodes : {1, 2}) {
        results["raw libnats, " + std::to_string(nodes) + " node" + (nodes > 1 ? "s" : "")].push_back(
            run_raw(nats.url(), nc, nodes, tasks, round));
        results["brisk::cluster, " + std::to_string(nodes) + " node" + (nodes > 1 ? "s" : "")].push_back(
            run_brisk(nats.url(), admin, nodes, tasks, round));
        results["redis streams, " + std::to_string(nodes) + " node" + (nodes > 1 ? "s" : "")].push_back(
            run_redis(redis, redis_port, nodes, tasks, round));
      }
    }
    std::printf("brisk_cluster_bench: %llu tasks of 64 bytes per run, %d round(s) interleaved, nats-server %s -js "
                "(file store, loopback), redis-server (appendfsync everysec, loopback), %u CPUs\n",
                static_cast<unsigned long long>(tasks), rounds, "2.9 (Debian)", std::thread::hardware_concurrency());
    std::printf("load average before: %s, after: %s\n\n", load_before.c_str(), loadavg().c_str());
    std::printf("| system | tasks/s end to end, median [min-max] |\n| --- | --- |\n");
    for (const auto& [name, v] : results) std::printf("| %s | %s |\n", name.c_str(), cell(v).c_str());
    jsCtx_Destroy(admin);
    natsConnection_Destroy(nc);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "brisk_cluster_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}

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
// A second, paced phase publishes at a fixed rate (2000 tasks/s by
// default, one node) and reports submit-to-start latency: each payload
// carries its publish time (CLOCK_MONOTONIC, one clock for every process on
// the machine) and each node records when its handler started on it.
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
#include <cstring>
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

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A 64-byte payload whose first 8 bytes are its publish time.
std::string stamped_payload() {
  std::string payload(64, 'p');
  const std::int64_t t = now_ns();
  std::memcpy(payload.data(), &t, sizeof t);
  return payload;
}

// A node's submit-to-start waits, written to its --lat-file when it stops.
// Only the thread that runs tasks records; the file is written after it ended.
struct StartWaits {
  std::vector<std::int64_t> ns;
  void record(const void* payload, std::size_t size) {
    std::int64_t t = 0;
    if (size >= sizeof t) std::memcpy(&t, payload, sizeof t);
    ns.push_back(now_ns() - t);
  }
  void write(const std::string& path) const {
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
      std::fwrite(ns.data(), sizeof(std::int64_t), ns.size(), f);
      std::fclose(f);
    }
  }
};

void ready() {
  std::fputs("ready\n", stdout);
  std::fflush(stdout);
}

int run_brisk_node(const std::string& url, const std::string& stream, const std::string& lat_file) {
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
  StartWaits waits;  // one engine worker: one recording thread
  worker.register_task(
      "t", [&](brisk::TaskContext& task) { waits.record(task.payload().data(), task.payload().size()); }, {},
      {.max_in_flight = 512});
  engine.start();
  worker.start();
  ready();
  while (g_stop == 0) std::this_thread::sleep_for(10ms);
  worker.stop();
  engine.shutdown();
  waits.write(lat_file);
  return 0;
}

int run_raw_node(const std::string& url, const std::string& stream, const std::string& lat_file) {
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
  StartWaits waits;
  ready();
  while (g_stop == 0) {
    natsMsgList list{};
    const natsStatus s = natsSubscription_Fetch(&list, sub, 256, 250, &jerr);
    if (s == NATS_OK) {
      for (int i = 0; i < list.Count; ++i) {
        waits.record(natsMsg_GetData(list.Msgs[i]), static_cast<std::size_t>(natsMsg_GetDataLength(list.Msgs[i])));
        natsMsg_Ack(list.Msgs[i], nullptr);
      }
    }
    natsMsgList_Destroy(&list);
  }
  waits.write(lat_file);
  natsSubscription_Destroy(sub);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return 0;
}

// A node of the redis system: `server` is the redis-server's port.
int run_redis_node(const std::string& port, const std::string& stream, const std::string& lat_file) {
  redisContext* c = redisConnect("127.0.0.1", std::stoi(port));
  if (c == nullptr || c->err != 0) throw std::runtime_error("cannot connect to redis-server");
  const std::string consumer = "node-" + std::to_string(::getpid());
  StartWaits waits;
  ready();
  while (g_stop == 0) {
    auto* reply = static_cast<redisReply*>(redisCommand(c, "XREADGROUP GROUP g %s COUNT 256 BLOCK 250 STREAMS %s >",
                                                        consumer.c_str(), stream.c_str()));
    if (reply == nullptr) throw std::runtime_error("redis connection lost");
    // [[stream, [[id, [field, value]], ...]]], or nil after BLOCK ms.
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1) {
      const redisReply* entries = reply->element[0]->element[1];
      for (std::size_t i = 0; i < entries->elements; ++i) {
        const redisReply* id = entries->element[i]->element[0];
        const redisReply* fields = entries->element[i]->element[1];  // [p, payload]
        waits.record(fields->element[1]->str, fields->element[1]->len);  // the task runs here (empty)
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
  waits.write(lat_file);
  return 0;
}

// ---- the parent ----

struct Node {
  pid_t pid = -1;
  FILE* out = nullptr;
  std::string lat_file;
};

std::vector<Node> spawn_nodes(const std::string& kind, int count, const std::string& url, const std::string& stream) {
  std::vector<Node> nodes;
  for (int i = 0; i < count; ++i) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    const std::string lat_file = std::filesystem::temp_directory_path().string() + "/brisk-cluster-bench-" +
                                 std::to_string(::getpid()) + "-" + stream + "-" + std::to_string(i) + ".waits";
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execl("/proc/self/exe", "brisk_cluster_bench", "--node", kind.c_str(), "--server", url.c_str(), "--stream",
              stream.c_str(), "--lat-file", lat_file.c_str(), static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    ::close(fds[1]);
    nodes.push_back({pid, ::fdopen(fds[0], "r"), lat_file});
  }
  for (auto& n : nodes) {
    char line[64] = {};
    if (std::fgets(line, sizeof line, n.out) == nullptr || std::string(line) != "ready\n")
      throw std::runtime_error("a node process did not start");
  }
  return nodes;
}

// Stops the nodes; returns their submit-to-start waits, merged.
std::vector<std::int64_t> stop_nodes(std::vector<Node>& nodes) {
  for (auto& n : nodes) ::kill(n.pid, SIGTERM);
  std::vector<std::int64_t> waits;
  for (auto& n : nodes) {
    ::waitpid(n.pid, nullptr, 0);
    std::fclose(n.out);
    if (FILE* f = std::fopen(n.lat_file.c_str(), "rb")) {
      std::int64_t buf[4096];
      for (std::size_t got; (got = std::fread(buf, sizeof buf[0], 4096, f)) > 0;) waits.insert(waits.end(), buf, buf + got);
      std::fclose(f);
    }
    std::remove(n.lat_file.c_str());
  }
  return waits;
}

// What one run measured.
struct Result {
  double tasks_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
};

Result result(std::uint64_t tasks, double elapsed_s, std::vector<std::int64_t> waits) {
  Result r;
  r.tasks_per_s = static_cast<double>(tasks) / elapsed_s;
  if (!waits.empty()) {
    std::sort(waits.begin(), waits.end());
    r.p50_us = static_cast<double>(waits[waits.size() / 2]) / 1e3;
    r.p99_us = static_cast<double>(waits[std::min(waits.size() - 1, waits.size() * 99 / 100)]) / 1e3;
  }
  return r;
}

// Paced publishing: task i goes out at start + i / rate (rate 0: at once).
void pace(double start, std::uint64_t i, double rate) {
  if (rate <= 0) return;
  const double due = start + static_cast<double>(i) / rate;
  for (double now = now_s(); now < due; now = now_s())
    if (due - now > 300e-6) std::this_thread::sleep_for(std::chrono::duration<double>(due - now - 200e-6));
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
Result run_brisk(const std::string& url, jsCtx* admin, int nodes_count, std::uint64_t tasks, int round, double rate) {
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
  const double start = now_s();
  for (std::uint64_t i = 0; i < tasks;) {
    pace(start, i, rate);
    const brisk::SubmitResult r = client.submit("t", stamped_payload());
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
  std::vector<std::int64_t> waits = stop_nodes(nodes);
  jsErrCode jerr{};
  js_DeleteStream(admin, stream.c_str(), nullptr, &jerr);
  js_DeleteStream(admin, (stream + "_DLQ").c_str(), nullptr, &jerr);
  return result(tasks, elapsed, std::move(waits));
}

Result run_raw(const std::string& url, natsConnection* nc, int nodes_count, std::uint64_t tasks, int round, double rate) {
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
  const double start = now_s();
  for (std::uint64_t i = 0; i < tasks; ++i) {
    pace(start, i, rate);
    const std::string payload = stamped_payload();
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
  std::vector<std::int64_t> waits = stop_nodes(nodes);
  js_DeleteStream(js, stream.c_str(), nullptr, &jerr);
  jsCtx_Destroy(js);
  return result(tasks, elapsed, std::move(waits));
}

long long redis_integer(redisContext* c, const std::string& command) {
  auto* reply = static_cast<redisReply*>(redisCommand(c, command.c_str()));
  if (reply == nullptr || reply->type == REDIS_REPLY_ERROR)
    throw std::runtime_error(command + ": " + (reply != nullptr ? reply->str : "connection lost"));
  const long long n = reply->integer;
  freeReplyObject(reply);
  return n;
}

Result run_redis(const brisk_bench::RedisServer& server, int port, int nodes_count, std::uint64_t tasks, int round,
                 double rate) {
  const std::string stream = "R" + std::to_string(nodes_count) + "R" + std::to_string(round);
  redisContext* c = server.connect();
  if (c == nullptr) throw std::runtime_error("cannot connect to redis-server");
  freeReplyObject(redisCommand(c, "XGROUP CREATE %s g $ MKSTREAM", stream.c_str()));
  std::vector<Node> nodes = spawn_nodes("redis", nodes_count, std::to_string(port), stream);
  const double start = now_s();
  for (std::uint64_t sent = 0; sent < tasks;) {
    // A pipeline of up to 8192 XADDs, then their replies (the acknowledgements);
    // paced: one at a time.
    const std::uint64_t window = rate > 0 ? 1 : kMaxInFlightPublishes;
    const std::uint64_t batch = std::min<std::uint64_t>(window, tasks - sent);
    for (std::uint64_t i = 0; i < batch; ++i) {
      pace(start, sent + i, rate);
      const std::string payload = stamped_payload();
      redisAppendCommand(c, "XADD %s * p %b", stream.c_str(), payload.data(), payload.size());
    }
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
  std::vector<std::int64_t> waits = stop_nodes(nodes);
  redis_integer(c, "DEL " + stream);
  redisFree(c);
  return result(tasks, elapsed, std::move(waits));
}

std::string cell(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  char buf[96];
  std::snprintf(buf, sizeof buf, "%8.0f [%.0f-%.0f]", v[v.size() / 2], v.front(), v.back());
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"brisk::cluster end to end beside a raw JetStream pull-fetch-ack loop and Redis Streams"};
  std::string node_kind;
  std::string server;
  std::string stream;
  std::string lat_file;
  std::uint64_t tasks = 50'000;
  std::uint64_t paced_tasks = 10'000;
  double rate = 2000;
  int rounds = 3;
  bool short_run = false;
  app.add_option("--node", node_kind, "internal: run as a node process (brisk, raw or redis)");
  app.add_option("--server", server, "internal: the server URL of a node process");
  app.add_option("--stream", stream, "internal: the stream of a node process");
  app.add_option("--lat-file", lat_file, "internal: where a node writes its submit-to-start waits");
  app.add_option("--tasks", tasks, "tasks per throughput run");
  app.add_option("--paced-tasks", paced_tasks, "tasks per latency run");
  app.add_option("--rate", rate, "tasks/s of the latency runs (one node)");
  app.add_option("--rounds", rounds, "repetitions (interleaved)");
  app.add_flag("--short", short_run, "CI: tiny sizes, one round");
  CLI11_PARSE(app, argc, argv);

  if (!node_kind.empty()) {
    struct sigaction sa {};
    sa.sa_handler = [](int) { g_stop = 1; };
    ::sigaction(SIGTERM, &sa, nullptr);
    if (node_kind == "redis") return run_redis_node(server, stream, lat_file);
    return node_kind == "brisk" ? run_brisk_node(server, stream, lat_file) : run_raw_node(server, stream, lat_file);
  }
  if (short_run) {
    tasks = 2000;
    paced_tasks = 200;
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
    std::map<std::string, std::vector<Result>> flood;
    std::map<std::string, std::vector<Result>> paced;
    auto nodes_name = [](const char* system, int nodes) {
      return std::string(system) + ", " + std::to_string(nodes) + " node" + (nodes > 1 ? "s" : "");
    };
    for (int round = 0; round < rounds; ++round) {
      for (int nodes : {1, 2, 3}) {
        flood[nodes_name("raw libnats", nodes)].push_back(run_raw(nats.url(), nc, nodes, tasks, round, 0));
        flood[nodes_name("brisk::cluster", nodes)].push_back(run_brisk(nats.url(), admin, nodes, tasks, round, 0));
        flood[nodes_name("redis streams", nodes)].push_back(run_redis(redis, redis_port, nodes, tasks, round, 0));
      }
      paced["raw libnats"].push_back(run_raw(nats.url(), nc, 1, paced_tasks, round + 100, rate));
      paced["brisk::cluster"].push_back(run_brisk(nats.url(), admin, 1, paced_tasks, round + 100, rate));
      paced["redis streams"].push_back(run_redis(redis, redis_port, 1, paced_tasks, round + 100, rate));
    }
    std::printf("brisk_cluster_bench: %d round(s) interleaved, 64-byte payloads, nats-server %s -js (file store, "
                "loopback), redis-server (appendfsync everysec, loopback), %u CPUs\n",
                rounds, "2.9 (Debian)", std::thread::hardware_concurrency());
    std::printf("load average before: %s, after: %s\n\n", load_before.c_str(), loadavg().c_str());
    auto pick = [](const std::vector<Result>& v, double Result::*field) {
      std::vector<double> out;
      for (const Result& r : v) out.push_back(r.*field);
      return out;
    };
    std::printf("Throughput: %llu tasks as fast as they go, publish -> store -> fetch -> run -> ack\n\n",
                static_cast<unsigned long long>(tasks));
    std::printf("| system | tasks/s end to end, median [min-max] |\n| --- | --- |\n");
    for (const auto& [name, v] : flood)
      std::printf("| %s | %s |\n", name.c_str(), cell(pick(v, &Result::tasks_per_s)).c_str());
    std::printf("\nLatency: %llu tasks published at %.0f/s, one node; submit to handler start, us\n\n",
                static_cast<unsigned long long>(paced_tasks), rate);
    std::printf("| system | p50, median [min-max] | p99, median [min-max] |\n| --- | --- | --- |\n");
    for (const auto& [name, v] : paced)
      std::printf("| %s | %s | %s |\n", name.c_str(), cell(pick(v, &Result::p50_us)).c_str(),
                  cell(pick(v, &Result::p99_us)).c_str());
    jsCtx_Destroy(admin);
    natsConnection_Destroy(nc);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "brisk_cluster_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}

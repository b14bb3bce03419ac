// `brisk serve` end to end (issue 18): the real binary on 127.0.0.1, port 0,
// a temp config and wal_dir; a real HTTP client; executors against real
// programs and a webhook server inside the test. No timing asserts: every
// wait is generous and ends as soon as its condition holds.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "service/service_process.hpp"

namespace brisk::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kSubmitToken = "submit-token-0123456789abcdef";
constexpr const char* kAdminToken = "admin-token-0123456789abcdef";

// A service in its own temp directory; `sections` is appended to a
// [server] section that listens on 127.0.0.1, port 0.
class Service {
 public:
  explicit Service(const std::string& sections, const std::string& server_extra = "") { config_ = sections; extra_ = server_extra; }

  fs::path dir() const { return tmp_.path(); }
  std::string script(const std::string& name, const std::string& body) const {
    const fs::path p = tmp_.path() / name;
    write_file(p, "#!/bin/sh\n" + body + "\n", true);
    return p.string();
  }
  ServeProcess& start() {
    write_file(tmp_.path() / "serve.toml", "[server]\nlisten = \"127.0.0.1\"\nport = 0\n" + extra_ + "\n" + config_);
    process_ = std::make_unique<ServeProcess>(tmp_.path() / "serve.toml", tmp_.path() / "serve.log");
    return *process_;
  }
  ServeProcess& process() { return *process_; }
  void stop() { process_.reset(); }
  void set_config(const std::string& sections) { config_ = sections; }

 private:
  TempDir tmp_;
  std::string config_;
  std::string extra_;
  std::unique_ptr<ServeProcess> process_;
};

json body_of(const httplib::Result& r) {
  if (!r) return json();
  return json::parse(r->body, nullptr, false);
}

std::string id_of(const httplib::Result& r) {
  const json j = body_of(r);
  return j.is_object() && j.contains("id") ? j["id"].get<std::string>() : std::string();
}

httplib::Result submit(httplib::Client& c, const std::string& type, const std::string& payload,
                       const httplib::Headers& headers = {}) {
  return c.Post(("/v1/tasks/" + type).c_str(), headers, payload, "application/octet-stream");
}

// The task's state once final (the service waits up to 20 s per call).
json final_state(httplib::Client& c, const std::string& id) {
  json j;
  for (int i = 0; i < 3; ++i) {
    j = body_of(c.Get(("/v1/tasks/" + id + "?wait_ms=20000").c_str()));
    const std::string s = j.value("state", "");
    if (s == "succeeded" || s == "dead_lettered" || s == "cancelled") break;
  }
  return j;
}

std::string toml_quote(const std::string& s) { return "\"" + s + "\""; }

// An HTTP server inside the test (the webhook owner), on 127.0.0.1 only,
// stopped and joined however the test ends.
struct HookServer {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  void start() {
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~HookServer() {
    server.stop();
    if (thread.joinable()) thread.join();
  }
};

// A loopback port with nothing listening on it: connecting is refused.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// ---- configuration ----

TEST(ServeConfig, InvalidConfigurationExitsTwoNamingTheKey) {
  TempDir tmp;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[server]\nprot = 8080\n[types.a]\nexecutor = \"webhook\"\nurl = \"http://127.0.0.1:1/\"\n", "server.prot: unknown key"},
      {"[server]\nport = 70000\n", "server.port: must be 0..65535"},
      {"[types.a]\nexecutor = \"webhook\"\nurl = \"http://127.0.0.1:1/\"\ntimeout_ms = 0\n", "types.a.timeout_ms"},
      {"[types.a]\nexecutor = \"carrier-pigeon\"\n", "types.a.executor"},
      {"[types.a]\nexecutor = \"command\"\ncommand = [\"/nonexistent/prog\"]\n", "types.a.command"},
      {"[durability]\nfsync = \"sometimes\"\n[types.a]\nexecutor = \"webhook\"\nurl = \"http://x/\"\n", "durability.fsync"},
      {"[types.a]\nexecutor = \"webhook\"\nurl = \"http://x/\"\n[types.a.retry]\nmax_attempts = 0\n",
       "types.a.retry.max_attempts"},
      {"[auth]\n[[auth.tokens]]\ntoken = \"short\"\nscopes = [\"submit\"]\n[types.a]\nexecutor = \"webhook\"\nurl = \"http://x/\"\n",
       "auth.tokens[0].token"},
      {"[server]\nlisten = \"0.0.0.0\"\n[types.a]\nexecutor = \"webhook\"\nurl = \"http://x/\"\n", "auth.tokens: required"},
      {"", "types: at least one task type"},
      {"[server\n", "serve.toml:1:"},
  };
  for (const auto& [text, expected] : cases) {
    write_file(tmp.path() / "serve.toml", text);
    const RunResult r = run_serve_to_exit(tmp.path() / "serve.toml");
    EXPECT_EQ(r.exit_code, 2) << text << "\n" << r.output;
    EXPECT_NE(r.output.find(expected), std::string::npos) << "expected '" << expected << "' in: " << r.output;
  }
}

TEST(ServeConfig, ExampleConfigurationIsValid) {
  const RunResult r = run_serve_to_exit(fs::path(BRISK_SOURCE_DIR) / "docs/examples/serve.toml", "--check");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// ---- the API's answers ----

TEST(ServeApi, EveryStatusCode) {
  Service service("", "max_body_bytes = 4096\nmax_header_bytes = 2048\n");
  const std::string echo = service.script("echo.sh", "printf 'ok:'; cat");
  const std::string slow = service.script("slow.sh", "sleep 30");
  service.set_config("[engine]\nmax_tasks = 8\n"
                     "[types.echo]\nexecutor = \"command\"\ncommand = [" + toml_quote(echo) + "]\n"
                     "[types.slow]\nexecutor = \"command\"\ncommand = [" + toml_quote(slow) + "]\nconcurrency = 1\n");
  ServeProcess& p = service.start();
  httplib::Client c = p.client();

  // 202, Location, the result
  auto r = submit(c, "echo", "hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
  const std::string id = id_of(r);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(r->get_header_value("Location"), "/v1/tasks/" + id);
  EXPECT_EQ(body_of(r)["durable"], false);  // no wal_dir: in memory
  json st = final_state(c, id);
  EXPECT_EQ(st["state"], "succeeded") << st.dump();
  EXPECT_EQ(st["result"], "ok:hello");
  EXPECT_EQ(st["attempts"], 1);

  // idempotent repeat: 200, the original id, duplicate
  r = submit(c, "echo", "once", {{"Idempotency-Key", "order-42"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  const std::string first = id_of(r);
  r = submit(c, "echo", "once", {{"Idempotency-Key", "order-42"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(id_of(r), first);
  EXPECT_EQ(body_of(r)["duplicate"], true);

  // 400 for bad headers, naming the problem
  for (const httplib::Headers& h : std::vector<httplib::Headers>{{{"Delay-Ms", "soon"}},
                                                                  {{"Priority", "9"}},
                                                                  {{"Run-At", "tomorrow"}},
                                                                  {{"Delay-Ms", "5"}, {"Run-At", "2030-01-01T00:00:00Z"}},
                                                                  {{"Idempotency-Key", "has space"}}}) {
    r = submit(c, "echo", "x", h);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << h.begin()->first;
    EXPECT_EQ(body_of(r)["error"], "invalid_header");
  }
  // unknown type: 404 (documented choice), unknown endpoint 404, bad id 400, unknown id 404
  r = submit(c, "nope", "x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(body_of(r)["error"], "unknown_type");
  EXPECT_EQ(c.Get("/v1/nothing-here")->status, 404);
  EXPECT_EQ(c.Get("/v1/tasks/abc")->status, 400);
  EXPECT_EQ(c.Get("/v1/tasks/123456789")->status, 404);

  // delayed, then cancelled (200), then not cancellable (409); Run-At in the future too
  r = submit(c, "echo", "later", {{"Delay-Ms", "600000"}, {"Priority", "high"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  const std::string delayed = id_of(r);
  EXPECT_EQ(body_of(c.Get(("/v1/tasks/" + delayed).c_str()))["state"], "delayed");
  r = c.Delete(("/v1/tasks/" + delayed).c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(body_of(c.Get(("/v1/tasks/" + delayed).c_str()))["state"], "cancelled");
  r = c.Delete(("/v1/tasks/" + delayed).c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(body_of(r)["state"], "cancelled");
  EXPECT_EQ(c.Delete("/v1/tasks/987654321")->status, 404);
  r = submit(c, "echo", "at", {{"Run-At", "2099-01-01T00:00:00.5+02:00"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(c.Delete(("/v1/tasks/" + id_of(r)).c_str())->status, 200);

  // batch: strings as they are, other JSON values as JSON text
  r = c.Post("/v1/batch/echo", R"(["a", {"b": 1}, "c"])", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
  json b = body_of(r);
  EXPECT_EQ(b["accepted"], 3);
  ASSERT_EQ(b["tasks"].size(), 3u);
  EXPECT_EQ(final_state(c, b["tasks"][1]["id"].get<std::string>())["result"], R"(ok:{"b":1})");
  EXPECT_EQ(c.Post("/v1/batch/echo", "not json", "application/json")->status, 400);
  EXPECT_EQ(c.Post("/v1/batch/echo", "[]", "application/json")->status, 400);

  // limits: body (413) and headers (431); never a 5xx for the client's mistake
  r = submit(c, "echo", std::string(5000, 'x'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  r = submit(c, "echo", "x", {{"X-Padding", std::string(3000, 'p')}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  httplib::Client c2 = p.client();
  EXPECT_EQ(submit(c2, "echo", "after the refusals")->status, 202);

  // 429 with Retry-After: engine.max_tasks = 8 tasks in flight at most
  int refused = 0;
  for (int i = 0; i < 12 && refused == 0; ++i) {
    r = submit(c, "slow", "x", {{"Delay-Ms", "600000"}});
    ASSERT_TRUE(r);
    if (r->status == 429) {
      ++refused;
      EXPECT_FALSE(r->get_header_value("Retry-After").empty());
      EXPECT_EQ(body_of(r)["error"], "rejected_full");
    } else {
      EXPECT_EQ(r->status, 202);
    }
  }
  EXPECT_EQ(refused, 1);

  // operations endpoints
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  EXPECT_EQ(c.Get("/readyz")->status, 200);
  r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("brisk_serve_tasks_accepted_total"), std::string::npos);
  EXPECT_NE(r->body.find("brisk_serve_http_responses_total{code=\"429\"}"), std::string::npos);
  r = c.Get("/ui");  // the dashboard page: public, its data comes from the API
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("/v1/dead-letters"), std::string::npos);
  EXPECT_FALSE(r->get_header_value("Content-Security-Policy").empty());
}

// ---- the command executor ----

TEST(ServeCommand, SuccessRetryPermanentFailureAndTimeout) {
  Service service("");
  const std::string ok = service.script("ok.sh", "printf 'done:'; cat");
  // Attempt 1 asks for a retry (75), attempt 2 dies by a signal, attempt 3 succeeds.
  const std::string flaky = service.script("flaky.sh",
                                           "cat >/dev/null\n"
                                           "[ \"$BRISK_ATTEMPT\" = 1 ] && { echo 'busy, later' >&2; exit 75; }\n"
                                           "[ \"$BRISK_ATTEMPT\" = 2 ] && kill -9 $$\n"
                                           "echo \"third time, key $BRISK_IDEMPOTENCY_KEY\"");
  const std::string bad = service.script("bad.sh", "cat >/dev/null; echo 'noise' >&2; echo 'bad input: no address' >&2; exit 3");
  const std::string pidfile = (service.dir() / "grandchild.pid").string();
  const std::string hang = service.script("hang.sh", "sleep 60 & echo $! > " + pidfile + "\nwait");
  const std::string retry = "[types.%s.retry]\nmax_attempts = 3\nbase_ms = 1\ncap_ms = 5\n";
  auto type = [&](const std::string& name, const std::string& prog, const std::string& extra = "") {
    std::string r = retry;
    r.replace(r.find("%s"), 2, name);
    return "[types." + name + "]\nexecutor = \"command\"\ncommand = [" + toml_quote(prog) + "]\n" + extra + r;
  };
  service.set_config(type("ok", ok) + type("flaky", flaky) + type("bad", bad) + type("hang", hang, "timeout_ms = 300\n"));
  ServeProcess& p = service.start();
  httplib::Client c = p.client();

  json st = final_state(c, id_of(submit(c, "ok", "payload")));
  EXPECT_EQ(st["state"], "succeeded") << st.dump();
  EXPECT_EQ(st["result"], "done:payload");

  st = final_state(c, id_of(submit(c, "flaky", "x", {{"Idempotency-Key", "k-1"}})));
  EXPECT_EQ(st["state"], "succeeded") << st.dump();
  EXPECT_EQ(st["attempts"], 3);
  EXPECT_EQ(st["result"], "third time, key k-1\n");

  st = final_state(c, id_of(submit(c, "bad", "x")));
  EXPECT_EQ(st["state"], "dead_lettered") << st.dump();
  EXPECT_EQ(st["attempts"], 1);  // permanent: not retried
  EXPECT_NE(st["last_error"].get<std::string>().find("exit 3"), std::string::npos) << st.dump();
  EXPECT_NE(st["last_error"].get<std::string>().find("bad input: no address"), std::string::npos) << st.dump();

  const std::string hang_id = id_of(submit(c, "hang", "x"));
  st = final_state(c, hang_id);
  EXPECT_EQ(st["state"], "dead_lettered") << st.dump();
  EXPECT_EQ(st["attempts"], 3);  // a timeout is retried
  EXPECT_NE(st["last_error"].get<std::string>().find("time limit"), std::string::npos) << st.dump();
  // The whole process group was killed: the grandchild `sleep 60` too.
  const pid_t grandchild = std::stoi(read_file(pidfile));
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = ::kill(grandchild, 0) != 0 || read_file("/proc/" + std::to_string(grandchild) + "/stat").find(" Z ") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "the time limit left pid " << grandchild << " running";

  // Dead letters: listed, replayed (a fresh attempt 1), purged.
  auto admin = p.client();
  json dl = body_of(admin.Get("/v1/dead-letters"));
  EXPECT_EQ(dl["count"], 2) << dl.dump();
  auto r = admin.Post(("/v1/dead-letters/" + hang_id + "/replay").c_str(), "", "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
  EXPECT_EQ(admin.Post("/v1/dead-letters/424242/replay", "", "text/plain")->status, 404);
  r = admin.Delete("/v1/dead-letters");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_GE(body_of(r)["purged"].get<int>(), 1);
}

// ---- the webhook executor ----

TEST(ServeWebhook, SuccessClientErrorBusyServerErrorTimeoutRefused) {
  HookServer hook_server;
  httplib::Server& hooks = hook_server.server;
  std::mutex m;
  std::map<std::string, httplib::Headers> seen;  // payload -> request headers
  auto record = [&](const httplib::Request& req) {
    std::lock_guard lock(m);
    seen[req.body] = req.headers;
  };
  hooks.Post("/ok", [&](const httplib::Request& req, httplib::Response& res) {
    record(req);
    res.set_content("hooked:" + req.body, "text/plain");
  });
  hooks.Post("/bad", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 422;
    res.set_content("unknown customer", "text/plain");
  });
  hooks.Post("/busy", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 429;
    res.set_header("Retry-After", "1");
  });
  hooks.Post("/err", [&](const httplib::Request&, httplib::Response& res) { res.status = 500; });
  hooks.Post("/slow", [&](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::seconds(2));
    res.set_content("too late", "text/plain");
  });
  hook_server.start();
  const int hook_port = hook_server.port;
  const int refused_port = closed_port();

  Service service("");
  std::string config;
  for (const auto& [name, path] : std::vector<std::pair<std::string, std::string>>{
           {"ok", "/ok"}, {"bad", "/bad"}, {"busy", "/busy"}, {"err", "/err"}, {"slow", "/slow"}}) {
    config += "[types." + name + "]\nexecutor = \"webhook\"\nurl = \"http://127.0.0.1:" + std::to_string(hook_port) + path +
              "\"\ntimeout_ms = 500\nretry = { max_attempts = 2, base_ms = 1, cap_ms = 5 }\n";
  }
  config += "[types.refused]\nexecutor = \"webhook\"\nurl = \"http://127.0.0.1:" + std::to_string(refused_port) +
            "/\"\nretry = { max_attempts = 2, base_ms = 1, cap_ms = 5 }\n";
  service.set_config(config);
  ServeProcess& p = service.start();
  httplib::Client c = p.client();

  const std::string ok_id = id_of(submit(c, "ok", "ping", {{"Idempotency-Key", "idem-7"}}));
  json st = final_state(c, ok_id);
  EXPECT_EQ(st["state"], "succeeded") << st.dump();
  EXPECT_EQ(st["result"], "hooked:ping");
  {
    std::lock_guard lock(m);
    ASSERT_TRUE(seen.count("ping"));
    const httplib::Headers& h = seen["ping"];
    auto header = [&](const char* k) { auto it = h.find(k); return it == h.end() ? std::string() : it->second; };
    EXPECT_EQ(header("Brisk-Task-Id"), ok_id);
    EXPECT_EQ(header("Brisk-Attempt"), "1");
    EXPECT_EQ(header("Brisk-Task-Type"), "ok");
    EXPECT_EQ(header("Idempotency-Key"), "idem-7");
  }

  struct Case {
    const char* type;
    int attempts;
    const char* error;
  };
  for (const Case& k : {Case{"bad", 1, "HTTP 422: unknown customer"}, Case{"busy", 2, "HTTP 429 (Retry-After: 1)"},
                        Case{"err", 2, "HTTP 500"}, Case{"slow", 2, "timed out"}, Case{"refused", 2, "connection error"}}) {
    st = final_state(c, id_of(submit(c, k.type, "x")));
    EXPECT_EQ(st["state"], "dead_lettered") << k.type << ": " << st.dump();
    EXPECT_EQ(st["attempts"], k.attempts) << k.type << ": " << st.dump();
    EXPECT_NE(st.value("last_error", std::string()).find(k.error), std::string::npos) << k.type << ": " << st.dump();
  }
  p.kill9();
}

// A slow endpoint holds no worker: one worker, six calls in flight at once.
TEST(ServeWebhook, SlowEndpointCallsRunConcurrentlyBeyondTheWorkers) {
  constexpr int kCalls = 6;
  HookServer hook_server;
  std::mutex m;
  std::condition_variable all_in;
  int in_flight = 0, most = 0;
  hook_server.server.Post("/slow", [&](const httplib::Request&, httplib::Response& res) {
    std::unique_lock lock(m);
    most = std::max(most, ++in_flight);
    all_in.notify_all();
    // Held until all calls are in (or 5 s): one at a time, they never are.
    all_in.wait_for(lock, std::chrono::seconds(5), [&] { return most >= kCalls; });
    --in_flight;
    res.set_content("done", "text/plain");
  });
  hook_server.start();
  Service service("[engine]\nworkers = 1\n[types.slow]\nexecutor = \"webhook\"\nurl = \"http://127.0.0.1:" +
                  std::to_string(hook_server.port) + "/slow\"\nconcurrency = " + std::to_string(kCalls) +
                  "\ntimeout_ms = 20000\n");
  ServeProcess& p = service.start();
  httplib::Client c = p.client();
  std::vector<std::string> ids;
  for (int i = 0; i < kCalls; ++i) ids.push_back(id_of(submit(c, "slow", "x" + std::to_string(i))));
  for (const std::string& id : ids) EXPECT_EQ(final_state(c, id)["state"], "succeeded") << id;
  std::lock_guard lock(m);
  EXPECT_EQ(most, kCalls) << "calls the endpoint saw at once, with one worker";
}

// 429 / 503 with Retry-After (seconds, or an HTTP date): the retry comes no
// earlier than it says, though the type's backoff is 1 ms.
TEST(ServeWebhook, RetryAfterDelaysTheRetry) {
  using Clock = std::chrono::steady_clock;
  HookServer hook_server;
  std::mutex m;
  std::map<std::string, std::vector<Clock::time_point>> arrivals;  // path -> attempt times
  auto handle = [&](const httplib::Request& req, httplib::Response& res, int status, bool date) {
    std::lock_guard lock(m);
    auto& seen = arrivals[req.path];
    seen.push_back(Clock::now());
    if (seen.size() > 1) return res.set_content("ok", "text/plain");
    res.status = status;
    if (!date) return res.set_header("Retry-After", "1");
    const std::time_t at = std::time(nullptr) + 2;  // a whole second at least, whatever the fraction now
    char text[64];
    std::tm tm{};
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&at, &tm));
    res.set_header("Retry-After", text);
  };
  hook_server.server.Post("/seconds", [&](const auto& req, auto& res) { handle(req, res, 429, false); });
  hook_server.server.Post("/date", [&](const auto& req, auto& res) { handle(req, res, 503, true); });
  hook_server.start();
  std::string config;
  for (const char* path : {"seconds", "date"}) {
    config += std::string("[types.") + path + "]\nexecutor = \"webhook\"\nurl = \"http://127.0.0.1:" +
              std::to_string(hook_server.port) + "/" + path +
              "\"\nretry = { max_attempts = 3, base_ms = 1, cap_ms = 1 }\n";
  }
  Service service(config);
  ServeProcess& p = service.start();
  httplib::Client c = p.client();
  for (const char* path : {"seconds", "date"}) {
    const json st = final_state(c, id_of(submit(c, path, "x")));
    EXPECT_EQ(st["state"], "succeeded") << path << ": " << st.dump();
    EXPECT_EQ(st["attempts"], 2) << path << ": " << st.dump();
    std::lock_guard lock(m);
    const auto& seen = arrivals["/" + std::string(path)];
    ASSERT_EQ(seen.size(), 2u) << path;
    EXPECT_GE(seen[1] - seen[0], std::chrono::seconds(1)) << path << ": the retry came before Retry-After";
  }
}

// ---- authentication ----

TEST(ServeAuth, TokensAndScopes) {
  Service service("");
  service.set_config(std::string("[auth]\npublic_metrics = false\n") + "[[auth.tokens]]\nname = \"app\"\ntoken = \"" + kSubmitToken +
                     "\"\nscopes = [\"submit\"]\n[[auth.tokens]]\nname = \"ops\"\ntoken = \"" + kAdminToken +
                     "\"\nscopes = [\"admin\"]\n[types.hook]\nexecutor = \"webhook\"\nurl = \"http://127.0.0.1:1/\"\n");
  ServeProcess& p = service.start();
  httplib::Client anonymous = p.client();
  httplib::Client wrong = p.client("submit-token-0123456789abcdeX");
  httplib::Client app = p.client(kSubmitToken);
  httplib::Client ops = p.client(kAdminToken);

  auto r = submit(anonymous, "hook", "x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer realm=\"brisk\"");
  EXPECT_EQ(submit(wrong, "hook", "x")->status, 401);
  EXPECT_EQ(submit(app, "hook", "x", {{"Delay-Ms", "600000"}})->status, 202);
  EXPECT_EQ(submit(ops, "hook", "x", {{"Delay-Ms", "600000"}})->status, 202);  // admin may submit too

  r = app.Delete("/v1/dead-letters");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_NE(r->body.find("admin scope"), std::string::npos);
  EXPECT_EQ(app.Get("/v1/dead-letters")->status, 403);
  EXPECT_EQ(anonymous.Get("/v1/dead-letters")->status, 401);
  EXPECT_EQ(ops.Get("/v1/dead-letters")->status, 200);
  EXPECT_EQ(anonymous.Get("/metrics")->status, 401);
  EXPECT_EQ(ops.Get("/metrics")->status, 200);
  EXPECT_EQ(anonymous.Get("/healthz")->status, 200);
  EXPECT_EQ(anonymous.Get("/readyz")->status, 200);
  // Nothing secret in the log.
  const std::string log = p.log();
  EXPECT_EQ(log.find(kSubmitToken), std::string::npos);
  EXPECT_EQ(log.find(kAdminToken), std::string::npos);
}

// ---- graceful shutdown ----

TEST(ServeShutdown, SigtermRefusesNewTasksDrainsAndExitsZero) {
  Service service("");
  const std::string marker = (service.dir() / "finished").string();
  const std::string work = service.script("work.sh", "cat > /dev/null; sleep 2; touch " + marker);
  service.set_config("[types.work]\nexecutor = \"command\"\ncommand = [" + toml_quote(work) + "]\n");
  ServeProcess& p = service.start();
  httplib::Client c = p.client();
  const std::string id = id_of(submit(c, "work", "x"));
  ASSERT_FALSE(id.empty());
  for (int i = 0; i < 1000 && body_of(c.Get(("/v1/tasks/" + id).c_str())).value("state", "") != "running"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  p.signal(SIGTERM);
  int status = 0;
  for (int i = 0; i < 200 && status != 503; ++i) {
    httplib::Client fresh = p.client();
    auto r = submit(fresh, "work", "late", {{"Delay-Ms", "600000"}});
    if (!r) break;  // already gone: then the drain finished first
    status = r->status;
    if (status != 503) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status, 503) << "a submission during the drain must be refused with 503";
  const std::optional<int> code = p.wait_exit(std::chrono::seconds(60));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << p.log();
  EXPECT_TRUE(fs::exists(marker)) << "the running task was not drained";
}

// ---- kill -9 under load ----

// An id answered before a restart never names the task that holds the same
// engine record after it (the engine's ids restart with its table): the
// service's ids carry its run, a number kept in the log directory, so the
// old id answers 404 and the new task keeps its own state.
TEST(ServeDurability, IdsFromBeforeARestartNeverNameAnotherTask) {
  Service service("");
  service.set_config("[durability]\nwal_dir = " + toml_quote((service.dir() / "wal").string()) +
                     "\n[types.noop]\nexecutor = \"noop\"\n");
  std::string before;
  {
    httplib::Client c = service.start().client();
    before = id_of(submit(c, "noop", "a"));
    ASSERT_NE(before.find('-'), std::string::npos) << before;
    EXPECT_EQ(final_state(c, before)["state"], "succeeded");
  }
  service.stop();
  httplib::Client c = service.start().client();
  const std::string after = id_of(submit(c, "noop", "b"));
  ASSERT_FALSE(after.empty());
  EXPECT_NE(before, after);
  // The engine gave the new task the same id it gave the old one (the
  // first record of a fresh table): only the run tells them apart.
  EXPECT_EQ(before.substr(before.find('-')), after.substr(after.find('-')));
  EXPECT_EQ(final_state(c, after)["state"], "succeeded");
  const auto old = c.Get(("/v1/tasks/" + before).c_str());
  ASSERT_TRUE(old);
  EXPECT_EQ(old->status, 404);
  EXPECT_EQ(body_of(old)["error"], "unknown_task");
  EXPECT_EQ(c.Get("/v1/tasks/1-x")->status, 400);
  EXPECT_EQ(std::stoull(after.substr(0, after.find('-'))), std::stoull(before.substr(0, before.find('-'))) + 1)
      << "the run number is kept in the log directory and raised at each start";
}

TEST(ServeDurability, KillNineUnderLoadLosesNothingAcknowledged) {
  HookServer hook_server;
  httplib::Server& hooks = hook_server.server;
  std::mutex m;
  std::set<std::string> executed;
  std::atomic<int> delay_ms{3};
  hooks.Post("/run", [&](const httplib::Request& req, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
    {
      std::lock_guard lock(m);
      executed.insert(req.body);
    }
    res.set_content("ok", "text/plain");
  });
  hook_server.start();
  const int hook_port = hook_server.port;

  Service service("");
  service.set_config("[durability]\nwal_dir = " + toml_quote((service.dir() / "wal").string()) +
                     "\nfsync = \"always\"\n[types.run]\nexecutor = \"webhook\"\nurl = \"http://127.0.0.1:" +
                     std::to_string(hook_port) + "/run\"\nconcurrency = 2\n");
  ServeProcess& first = service.start();

  // Four clients submit until the kill; only a 202 counts as acknowledged.
  std::mutex acked_m;
  std::vector<std::string> acked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      httplib::Client c = first.client();
      c.set_read_timeout(5);
      for (int n = 0; !stop.load() && n < 2000; ++n) {
        const std::string payload = "t" + std::to_string(t) + "-" + std::to_string(n);
        auto r = submit(c, "run", payload);
        if (r && r->status == 202) {
          std::lock_guard lock(acked_m);
          acked.push_back(payload);
        }
      }
    });
  }
  // Kill once a backlog exists (at most ~5 s of load).
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lock(acked_m);
      if (acked.size() >= 600) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  first.kill9();
  stop = true;
  for (std::thread& t : clients) t.join();
  std::size_t executed_before = 0;
  {
    std::lock_guard lock(m);
    executed_before = executed.size();
  }
  ASSERT_GT(acked.size(), 0u);

  delay_ms = 0;
  service.stop();
  ServeProcess& second = service.start();
  std::vector<std::string> missing;
  for (int i = 0; i < 3000; ++i) {  // up to 30 s
    missing.clear();
    {
      std::lock_guard lock(m);
      for (const std::string& a : acked) {
        if (!executed.count(a)) missing.push_back(a);
      }
    }
    if (missing.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(missing.empty()) << missing.size() << " of " << acked.size() << " acknowledged tasks lost, e.g. "
                               << missing.front() << "\n" << second.log();
  std::printf("acknowledged %zu, executed before the kill %zu, after the restart %zu\n", acked.size(), executed_before,
              executed.size());
  EXPECT_NE(second.log().find("tasks requeued"), std::string::npos);
  second.kill9();
}

}  // namespace
}  // namespace brisk::test

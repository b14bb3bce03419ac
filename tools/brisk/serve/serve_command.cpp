#include "brisk/serve/serve_command.hpp"

#include <CLI/CLI.hpp>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <brisk/brisk.hpp>

#include <condition_variable>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "brisk/serve/executors.hpp"
#include "brisk/serve/http_api.hpp"
#include "brisk/serve/http_server.hpp"
#include "brisk/serve/serve_config.hpp"
#include "brisk/serve/tls_context.hpp"
#include "brisk/serve/webhook_loop.hpp"

namespace brisk::serve {
namespace {

constexpr std::uint32_t kDefaultWebhookConcurrency = 64;

EngineConfig engine_config(const ServeConfig& c) {
  EngineConfig e;
  e.workers = c.workers;
  e.pin_workers = false;  // executors block on processes and sockets: never hold a pinned CPU
  e.max_named_tasks = c.max_tasks;
  e.max_payload_bytes = c.max_body_bytes;
  e.task_status.max_finished = c.finished_tasks;
  e.task_status.retention = c.finished_retention;
  e.task_status.max_result_bytes = c.max_result_bytes;
  e.idempotency_retention = c.idempotency_retention;
  e.dead_letter_capacity = c.dead_letter_capacity;
  e.durability = c.durability;
  return e;
}

TaskTypeOptions type_options(const TypeConfig& t) {
  TaskTypeOptions o;
  o.max_concurrency = t.concurrency;
  // A webhook attempt holds no worker (executors.hpp), so workers do not
  // bound its calls in flight: without a concurrency of its own, 64 do.
  if (t.executor == ExecutorKind::webhook && t.concurrency == 0) o.max_concurrency = kDefaultWebhookConcurrency;
  o.rate_per_second = t.rate_per_second;
  o.burst = t.burst;
  o.retry = t.retry;
  // The executors enforce the time limit themselves (killing the process
  // group, aborting the request); the engine's hard limit is only a backstop.
  o.hard_timeout = t.timeout + std::chrono::seconds(30);
  return o;
}

void say(const std::string& line) {
  std::fprintf(stderr, "brisk serve: %s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace

CLI::App* add_serve_command(CLI::App& app, ServeOptions& options) {
  CLI::App* cmd = app.add_subcommand("serve", "run the task service: HTTP API v1, executors, write-ahead log (docs/service.md)");
  cmd->add_option("--config", options.config, "TOML configuration file (docs/examples/serve.toml)")->required();
  cmd->add_flag("--check", options.check_only, "validate the configuration and exit (0 valid, 2 invalid)");
  return cmd;
}

int run_serve(const ServeOptions& options) {
  // Before any thread exists: SIGTERM/SIGINT are taken by sigwait below
  // (every thread inherits the mask), and a peer that goes away never kills
  // the process with SIGPIPE.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  ServeConfig config;
  std::shared_ptr<boost::asio::ssl::context> tls;
  try {
    config = load_serve_config(options.config);
  } catch (const ServeConfigError& e) {
    std::fprintf(stderr, "brisk serve: invalid configuration: %s\n", e.what());
    return 2;
  }
  try {
    tls = make_tls_context(config);  // the PEM files are read and checked now, --check included
  } catch (const ServeConfigError& e) {
    std::fprintf(stderr, "brisk serve: invalid configuration: %s: %s\n", options.config.c_str(), e.what());
    return 2;
  }
  if (options.check_only) {
    std::printf("%s: valid (%zu task types)\n", options.config.c_str(), config.types.size());
    return 0;
  }

  init_executors();
  // Before any task can run (recovered ones run as soon as the engine
  // starts): every id the service shows carries this run.
  std::uint64_t run = 0;
  try {
    run = TaskIds::next_run(config.durability.wal_dir);
  } catch (const std::exception& e) {
    say(std::string("cannot record this run's number (task ids carry it): ") + e.what());
    return 1;
  }
  const TaskIds ids(run);
  std::unique_ptr<Engine> engine;
  // Declared after the engine, so destroyed before it: a call still in
  // flight then (an early exit) completes its task as a retry while the
  // engine lives. A normal exit drains the engine first, loop running.
  std::unique_ptr<WebhookLoop> webhooks;
  std::map<std::string, TaskType> types;
  std::vector<std::shared_ptr<Executor>> executors;
  try {
    engine = std::make_unique<Engine>(engine_config(config));
    webhooks = std::make_unique<WebhookLoop>();
    for (const TypeConfig& t : config.types) {
      std::shared_ptr<Executor> ex = make_executor(t, config.max_result_bytes, *webhooks, ids);
      executors.push_back(ex);
      types[t.name] = engine->register_task(t.name, [ex](TaskContext& task) { return ex->run(task); }, type_options(t));
    }
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "brisk serve: invalid configuration: %s: %s\n", options.config.c_str(), e.what());
    return 2;
  }
  try {
    engine->start();
  } catch (const std::exception& e) {
    say(std::string("cannot start the engine: ") + e.what());
    return 1;
  }
  if (!config.durability.wal_dir.empty()) {
    const RecoveryReport& r = engine->recovery_report();
    say("write-ahead log " + config.durability.wal_dir + ": " + std::to_string(r.records) + " records, " +
        std::to_string(r.tasks_requeued) + " tasks requeued, " + std::to_string(r.dead_letters_restored) +
        " dead letters restored" + (r.damage.empty() ? "" : ", " + std::to_string(r.damage.size()) + " damage notes"));
    for (const std::string& d : r.damage) say("recovery: " + d);
  }

  // Every connection is a descriptor: take the hard limit (often 1024 soft,
  // far more hard), so that server.max_connections is the limit that bites.
  if (rlimit nofile{}; ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }
  ServeApi api(*engine, config, types, ids);
  HttpServer server(config, api, tls);  // after the API: stopped and destroyed before it
  std::string bind_error;
  const int port = server.bind(&bind_error);
  if (port <= 0) {
    say(bind_error);
    return 1;
  }
  server.start();
  const unsigned threads = config.http_threads;
  const std::string host = config.listen.find(':') != std::string::npos ? "[" + config.listen + "]" : config.listen;
  std::printf("brisk serve: listening on %s://%s:%d\n", tls ? "https" : "http", host.c_str(), port);
  std::fflush(stdout);
  say(std::to_string(config.types.size()) + " task types, " + std::to_string(config.workers) + " workers, " +
      std::to_string(threads) + " HTTP threads (at most " + std::to_string(config.max_connections) + " connections), " +
      (config.durability.wal_dir.empty() ? std::string("in memory (no write-ahead log)")
                                         : "durable (fsync " +
                                               std::string(config.durability.fsync == FsyncPolicy::always     ? "always"
                                                           : config.durability.fsync == FsyncPolicy::interval ? "interval"
                                                                                                               : "never") +
                                               ")") +
      ", " + (config.tokens.empty() ? std::string("no authentication") : std::to_string(config.tokens.size()) + " tokens") +
      (tls ? ", TLS (certificate " + config.tls_cert + ")" : std::string(", no TLS")));

  int sig = 0;
  while (sigwait(&stop_signals, &sig) != 0) {
  }
  say(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
      ": refusing new tasks (503), draining accepted work");
  api.begin_shutdown();

  // A drain longer than server.drain_timeout_ms gives up: durable tasks not
  // yet run stay in the log for the next start.
  std::mutex m;
  std::condition_variable cv;
  bool drained = false;
  std::thread watchdog([&] {
    std::unique_lock lock(m);
    if (!cv.wait_for(lock, config.drain_timeout, [&] { return drained; })) {
      say("drain did not finish within server.drain_timeout_ms (" + std::to_string(config.drain_timeout.count()) +
          " ms): exiting; durable tasks not yet run are recovered at the next start");
      std::fflush(nullptr);
      std::_Exit(1);
    }
  });
  engine->shutdown();
  {
    std::lock_guard lock(m);
    drained = true;
  }
  cv.notify_all();
  watchdog.join();
  server.stop();
  say("drained, exiting");
  return 0;
}

}  // namespace brisk::serve

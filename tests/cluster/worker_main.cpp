// A cluster worker process for the kill -9 test: runs tasks of type "work"
// from the stream until killed; each finished task appends a line
// "<idempotency key> <attempt>" to --log (before its ack is sent).
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <brisk/brisk.hpp>
#include <brisk/cluster.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  CLI::App app{"brisk cluster test worker"};
  std::string server;
  std::string log;
  int ack_wait_ms = 2000;
  int sleep_ms = 10;
  unsigned in_flight = 32;
  double seconds = 120;
  app.add_option("--server", server)->required();
  app.add_option("--log", log)->required();
  app.add_option("--ack-wait-ms", ack_wait_ms);
  app.add_option("--sleep-ms", sleep_ms);
  app.add_option("--in-flight", in_flight);
  app.add_option("--seconds", seconds, "exit after this long (a safety net)");
  CLI11_PARSE(app, argc, argv);

  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) {
    std::perror("open log");
    return 1;
  }
  brisk::cluster::ClientConfig cc;
  cc.servers = {server};
  brisk::cluster::Client client(cc);
  brisk::EngineConfig ec;
  ec.workers = 2;
  ec.pin_workers = false;
  brisk::Engine engine(ec);
  brisk::cluster::WorkerConfig wc;
  wc.ack_wait = std::chrono::milliseconds(ack_wait_ms);
  brisk::cluster::Worker worker(client, engine, wc);
  brisk::TaskTypeOptions options;
  options.retry.max_attempts = 5;
  worker.register_task(
      "work",
      [&](brisk::TaskContext& task) {
        std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
        std::string line(task.idempotency_key());
        line += ' ' + std::to_string(task.attempt()) + '\n';
        if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) std::abort();
        return brisk::Outcome::success();
      },
      options, {.max_in_flight = in_flight});
  engine.start();
  worker.start();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  worker.stop();
  engine.shutdown();
  ::close(fd);
  return 0;
}

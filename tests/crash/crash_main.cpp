// brisk_crash: the durability proof. A child process submits durable tasks
// under load and is killed with SIGKILL at random moments, over many cycles,
// and restarted each time on the same log. A checker then proves:
//   * every task acknowledged as durable ran to completion at least once;
//   * resubmitting an acknowledged task with its idempotency key after a
//     restart is answered `duplicate` (it does not run again).
//
//   brisk_crash --cycles 20 --seed 7 --dir /tmp/x     (replays exactly with a seed)
//
// Files in --dir: wal/ (the engine's log), acked.log (numbers acknowledged
// durable, written by the child after wait_durable), ran.log (numbers whose
// handler ran, written and fdatasync'ed by the handler before it returns),
// violations.log (problems the child saw itself).
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "brisk/brisk.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Appends one line and makes it durable; the checker trusts these files.
void append_line(const fs::path& file, const std::string& text) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) || ::fdatasync(fd) != 0) {
    std::perror("brisk_crash: append");
    std::_Exit(3);
  }
  ::close(fd);
}

std::vector<long> numbers_in(const fs::path& file) {
  std::vector<long> out;
  std::ifstream in(file);
  long n;
  while (in >> n) out.push_back(n);
  return out;
}

bool keyed(long n) { return n % 2 == 0; }

// The child: recover, check keys, then submit batches until killed (or, in
// the final run, until everything recovered has finished).
int child(const fs::path& dir, bool final_run) {
  brisk::EngineConfig config;
  config.workers = 2;
  config.pin_workers = false;
  config.durability.wal_dir = (dir / "wal").string();
  config.durability.segment_bytes = 256 << 10;  // rotate and compact often
  brisk::Engine engine(config);
  const fs::path ran = dir / "ran.log";
  engine.register_task("job", [&](brisk::TaskContext& t) {
    append_line(ran, std::string(t.payload()) + "\n");
  });
  engine.start();

  const std::vector<long> acked = numbers_in(dir / "acked.log");
  long next = 0;
  for (long n : acked) next = std::max(next, n + 1);
  // Acknowledged keyed tasks must be recognised after the restart.
  for (std::size_t i = acked.size() > 20 ? acked.size() - 20 : 0; i < acked.size(); ++i) {
    const long n = acked[i];
    if (!keyed(n)) continue;
    brisk::TaskOptions o;
    o.idempotency_key = "k" + std::to_string(n);
    const brisk::SubmitResult r = engine.submit("job", std::to_string(n), o);
    if (r.status != brisk::SubmitStatus::duplicate) {
      append_line(dir / "violations.log", "acked keyed task " + std::to_string(n) + " resubmitted: " +
                                              std::string(brisk::to_string(r.status)) + "\n");
    }
  }
  if (final_run) {
    engine.drain();
    while (engine.stats().named_in_flight != 0) {
      std::this_thread::sleep_for(10ms);
      engine.drain();
    }
    return 0;
  }
  for (;;) {
    std::vector<brisk::SubmitResult> batch;
    std::string lines;
    for (int i = 0; i < 64; ++i, ++next) {
      brisk::TaskOptions o;
      if (keyed(next)) o.idempotency_key = "k" + std::to_string(next);
      const brisk::SubmitResult r = engine.submit("job", std::to_string(next), o);
      if (!r) {
        std::this_thread::sleep_for(1ms);
        continue;
      }
      batch.push_back(r);
      lines += std::to_string(next) + "\n";
    }
    if (!batch.empty() && engine.wait_durable(batch.back())) append_line(dir / "acked.log", lines);
  }
}

int parent(const fs::path& dir, int cycles, std::uint64_t seed, const std::string& self) {
  std::mt19937_64 rng(seed);
  fs::create_directories(dir);
  auto run_child = [&](bool final_run, int kill_after_ms) {
    const pid_t pid = fork();
    if (pid == 0) {
      execl(self.c_str(), self.c_str(), "--child", "--dir", dir.c_str(), final_run ? "--final" : "--no-final",
            static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    if (kill_after_ms >= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms));
      kill(pid, SIGKILL);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
  };
  for (int c = 0; c < cycles; ++c) {
    const int after = 50 + static_cast<int>(rng() % 400);
    const int status = run_child(false, after);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
      std::printf("cycle %d: child ended on its own (status %d)\n", c, status);
      return 1;
    }
  }
  const int status = run_child(true, -1);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::printf("final run failed (status %d)\n", status);
    return 1;
  }

  const std::vector<long> acked = numbers_in(dir / "acked.log");
  std::map<long, int> runs;
  for (long n : numbers_in(dir / "ran.log")) ++runs[n];
  long lost = 0, reran = 0;
  for (long n : acked) {
    if (runs[n] == 0) {
      if (++lost <= 10) std::printf("LOST: task %ld was acknowledged durable and never ran\n", n);
    }
  }
  for (const auto& [n, count] : runs) reran += count > 1 ? 1 : 0;
  std::ifstream vin(dir / "violations.log");
  std::string line;
  long violations = 0;
  while (std::getline(vin, line)) {
    if (++violations <= 10) std::printf("VIOLATION: %s\n", line.c_str());
  }
  std::printf("brisk_crash: seed %llu, %d SIGKILL cycles, %zu tasks acknowledged durable, %zu ran, "
              "%ld lost, %ld ran more than once (at-least-once), %ld key violations\n",
              static_cast<unsigned long long>(seed), cycles, acked.size(), runs.size(), lost, reran, violations);
  const bool ok = lost == 0 && violations == 0 && !acked.empty();
  std::printf("%d passed, %d failed\n", ok ? 1 : 0, ok ? 0 : 1);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"brisk crash test: SIGKILL a durable producer, restart, check nothing acknowledged was lost"};
  bool is_child = false, final_run = false;
  int cycles = 10;
  std::uint64_t seed = std::random_device{}();
  std::string dir;
  app.add_flag("--child", is_child, "internal: run as the child");
  app.add_flag("--final,!--no-final", final_run, "internal: the last child drains instead of submitting");
  app.add_option("--cycles", cycles, "SIGKILL cycles")->check(CLI::Range(1, 100000));
  app.add_option("--seed", seed, "random seed for the kill times (printed)");
  app.add_option("--dir", dir, "working directory (default: a fresh one under /tmp, removed on success)");
  CLI11_PARSE(app, argc, argv);
  if (is_child) return child(dir, final_run);
  const bool own_dir = dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/brisk-crash-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 2;
    dir = tmpl;
  }
  std::printf("brisk_crash: seed %llu, dir %s\n", static_cast<unsigned long long>(seed), dir.c_str());
  const int rc = parent(dir, cycles, seed, fs::canonical("/proc/self/exe").string());
  if (rc == 0 && own_dir) fs::remove_all(dir);
  return rc;
}

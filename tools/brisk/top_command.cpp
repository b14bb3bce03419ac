#include "brisk/top_command.hpp"

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "brisk/snapshot_window.hpp"

namespace brisk::tools {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_sigint(int) { g_interrupted = 1; }

enum class View { types, workers };

std::string fetch(httplib::Client& client, const std::string& url) {
  const httplib::Result res = client.Get("/debug/brisk/snapshot");
  if (!res) throw std::runtime_error("GET " + url + "/debug/brisk/snapshot: " + httplib::to_string(res.error()));
  if (res->status != 200) throw std::runtime_error(url + " answered " + std::to_string(res->status) + ": " + res->body);
  return res->body;
}

double us(std::uint64_t ns) { return static_cast<double>(ns) / 1e3; }

std::string frame(const SnapshotWindow& w, View view, bool by_name, const std::string& url) {
  std::string out;
  char line[256];
  const auto add = [&](const char* fmt, auto... args) {
    std::snprintf(line, sizeof line, fmt, args...);
    out += line;
  };
  const double s = w.wall_s > 0 ? w.wall_s : 1;
  const EngineStats& st = w.stats;
  add("brisk top  %s  (%.2f s window)   keys: t types  w workers  s sort  q quit\n", url.c_str(), w.wall_s);
  add("jobs/s %.0f   queued %llu   dead letters %llu   credits %lld of %lld outstanding\n",
      static_cast<double>(st.executed) / s, static_cast<unsigned long long>(st.queued),
      static_cast<unsigned long long>(st.dead_letters), static_cast<long long>(st.credits_outstanding),
      static_cast<long long>(st.credits_capacity));
  add("queue wait p50 %.1f us p99 %.1f us   run time p50 %.1f us p99 %.1f us\n", us(st.queue_wait.p50_ns),
      us(st.queue_wait.p99_ns), us(st.run_time.p50_ns), us(st.run_time.p99_ns));
  out += "lanes:";
  for (std::size_t i = 0; i < st.lanes.size(); ++i) {
    add(" %zu: %llu queued", i, static_cast<unsigned long long>(st.lanes[i].queued));
  }
  out += "\n";
  if (w.has_log) {
    add("log: fsync %s, fsync p50 %.2f ms p99 %.2f ms, records per batch p50 %llu, %.0f records/s\n",
        w.fsync_policy.c_str(), us(w.wal_fsync_ns.p50_ns) / 1e3, us(w.wal_fsync_ns.p99_ns) / 1e3,
        static_cast<unsigned long long>(w.wal_batch_records.p50_ns), static_cast<double>(st.wal_records) / s);
  } else {
    out += "log: none\n";
  }
  out += "\n";
  if (view == View::types) {
    std::vector<TaskTypeStats> types = st.task_types;
    std::sort(types.begin(), types.end(), [by_name](const TaskTypeStats& a, const TaskTypeStats& b) {
      return by_name ? a.name < b.name : a.succeeded > b.succeeded;
    });
    add("%-24s %12s %12s %10s %10s %10s  (sorted by %s)\n", "type", "accepted/s", "succeeded/s", "failed/s",
        "retried/s", "limited/s", by_name ? "name" : "rate");
    for (const TaskTypeStats& t : types) {
      add("%-24s %12.0f %12.0f %10.0f %10.0f %10.0f\n", t.name.c_str(), static_cast<double>(t.accepted) / s,
          static_cast<double>(t.succeeded) / s, static_cast<double>(t.failed_attempts) / s,
          static_cast<double>(t.retried) / s, static_cast<double>(t.rate_limited) / s);
    }
  } else {
    add("%-8s %10s %8s %8s %8s %12s %14s\n", "worker", "jobs/s", "busy%", "parked%", "steals/s", "runnable-wait%",
        "preempted/s");
    for (std::size_t i = 0; i < st.workers.size(); ++i) {
      const WorkerStats& x = st.workers[i];
      const WorkerSched sched = i < w.sched.size() ? w.sched[i] : WorkerSched{};
      add("%-8zu %10.0f %8.1f %8.1f %8.0f %12.1f %14.0f\n", i, static_cast<double>(x.executed) / s,
          100.0 * static_cast<double>(x.busy_ns) / (s * 1e9), 100.0 * static_cast<double>(x.parked_ns) / (s * 1e9),
          static_cast<double>(x.steal_batches) / s, 100.0 * static_cast<double>(sched.runnable_wait_ns) / (s * 1e9),
          static_cast<double>(sched.involuntary_switches) / s);
    }
  }
  return out;
}

// Raw keys, no echo, alternate screen; restored by the destructor.
class Terminal {
 public:
  Terminal() {
    if (::tcgetattr(STDIN_FILENO, &saved_) != 0) throw std::runtime_error("stdin is not a terminal (use --once)");
    termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    ::tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    std::fputs("\x1b[?1049h\x1b[?25l", stdout);  // alternate screen, hide the cursor
  }
  ~Terminal() {
    std::fputs("\x1b[?25h\x1b[?1049l", stdout);
    std::fflush(stdout);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // A key pressed within timeout_ms, or 0.
  static char key(int timeout_ms) {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    char c = 0;
    if (::poll(&p, 1, timeout_ms) > 0 && ::read(STDIN_FILENO, &c, 1) == 1) return c;
    return 0;
  }

 private:
  termios saved_{};
};

int live(httplib::Client& client, const TopOptions& o) {
  Terminal terminal;
  std::signal(SIGINT, on_sigint);
  View view = View::types;
  bool by_name = false;
  std::string before = fetch(client, o.attach);
  auto next = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (!g_interrupted) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next - std::chrono::steady_clock::now());
    const char c = Terminal::key(static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
    if (c == 'q' || c == 'Q') break;
    if (c == 't') view = View::types;
    if (c == 'w') view = View::workers;
    if (c == 's') by_name = !by_name;
    if (c == 0 && std::chrono::steady_clock::now() < next) continue;
    if (std::chrono::steady_clock::now() >= next) {
      std::string after = fetch(client, o.attach);
      const SnapshotWindow w = snapshot_window(before, after);
      before = std::move(after);
      next += std::chrono::seconds(1);
      std::fputs("\x1b[H\x1b[2J", stdout);
      std::fputs(frame(w, view, by_name, o.attach).c_str(), stdout);
      std::fflush(stdout);
    }
  }
  std::signal(SIGINT, SIG_DFL);
  return 0;
}

}  // namespace

CLI::App* add_top_command(CLI::App& app, TopOptions& o) {
  CLI::App* cmd = app.add_subcommand("top", "live view of a running engine (its debug endpoints)");
  cmd->add_option("--attach", o.attach, "the engine's metrics server URL, e.g. http://127.0.0.1:9100")->required();
  cmd->add_option("--token", o.token, "bearer token (observability.debug_token)");
  cmd->add_flag("--once", o.once, "print one frame (a one-second window) as plain text and exit");
  return cmd;
}

int run_top(const TopOptions& o) {
  try {
    httplib::Client client(o.attach);
    if (!client.is_valid()) throw std::runtime_error("not an http URL: " + o.attach);
    client.set_connection_timeout(std::chrono::seconds(5));
    client.set_read_timeout(std::chrono::seconds(10));
    if (!o.token.empty()) client.set_bearer_token_auth(o.token);
    if (!o.once) return live(client, o);
    const std::string before = fetch(client, o.attach);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::fputs(frame(snapshot_window(before, fetch(client, o.attach)), View::types, false, o.attach).c_str(), stdout);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "brisk top: %s\n", e.what());
    return 1;
  }
}

}  // namespace brisk::tools

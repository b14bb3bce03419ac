#include "brisk/top_command.hpp"

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
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

// The types view's sort keys: a key per column, largest first (name: A-Z).
struct SortKey {
  char key;
  const char* column;
};
constexpr SortKey kSortKeys[] = {{'s', "succeeded/s"}, {'a', "accepted/s"}, {'f', "failed/s"},
                                 {'l', "limited/s"},   {'o', "ok total"},   {'n', "name"}};

struct TypeRow {
  const TaskTypeStats* window;  // differences over the window
  std::uint64_t succeeded_total;
};

std::uint64_t sort_value(const TypeRow& r, char key) {
  switch (key) {
    case 'a': return r.window->accepted;
    case 'f': return r.window->failed_attempts;
    case 'l': return r.window->rate_limited;
    case 'o': return r.succeeded_total;
    default: return r.window->succeeded;
  }
}

const char* sort_column(char key) {
  for (const SortKey& k : kSortKeys) {
    if (k.key == key) return k.column;
  }
  return nullptr;
}

std::string fetch(httplib::Client& client, const std::string& url) {
  const httplib::Result res = client.Get("/debug/brisk/snapshot");
  if (!res) throw std::runtime_error("GET " + url + "/debug/brisk/snapshot: " + httplib::to_string(res.error()));
  if (res->status != 200) throw std::runtime_error(url + " answered " + std::to_string(res->status) + ": " + res->body);
  return res->body;
}

double us(std::uint64_t ns) { return static_cast<double>(ns) / 1e3; }

class Frame {
 public:
  template <class... Args>
  void add(const char* fmt, Args... args) {
    char line[256];
    std::snprintf(line, sizeof line, fmt, args...);
    out_ += line;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

void add_header(Frame& f, const SnapshotWindow& w, double s, const std::string& url) {
  const EngineStats& st = w.stats;
  f.add("brisk top  %s  (%.2f s window)   keys: t types  w workers  sort n a s f l o  q quit\n", url.c_str(),
        w.wall_s);
  f.add("jobs/s %.0f   queued %llu   dead letters %llu   credits %lld of %lld outstanding\n",
        static_cast<double>(st.executed) / s, static_cast<unsigned long long>(st.queued),
        static_cast<unsigned long long>(st.dead_letters), static_cast<long long>(st.credits_outstanding),
        static_cast<long long>(st.credits_capacity));
  f.add("queue wait p50 %.1f us p99 %.1f us   run time p50 %.1f us p99 %.1f us\n", us(st.queue_wait.p50_ns),
        us(st.queue_wait.p99_ns), us(st.run_time.p50_ns), us(st.run_time.p99_ns));
  f.add("lanes:");
  for (std::size_t i = 0; i < st.lanes.size(); ++i) {
    f.add(" %zu: %llu queued", i, static_cast<unsigned long long>(st.lanes[i].queued));
  }
  f.add("\n");
  if (w.has_log) {
    f.add("log: fsync %s, fsync p50 %.2f ms p99 %.2f ms, records per batch p50 %llu, %.0f records/s\n",
          w.fsync_policy.c_str(), us(w.wal_fsync_ns.p50_ns) / 1e3, us(w.wal_fsync_ns.p99_ns) / 1e3,
          static_cast<unsigned long long>(w.wal_batch_records.p50_ns), static_cast<double>(st.wal_records) / s);
  } else {
    f.add("log: none\n");
  }
  f.add("\n");
}

void add_types(Frame& f, const SnapshotWindow& w, double s, char sort_key) {
  std::vector<TypeRow> rows;
  for (std::size_t i = 0; i < w.stats.task_types.size(); ++i) {
    rows.push_back({&w.stats.task_types[i], i < w.types.size() ? w.types[i].succeeded_total : 0});
  }
  std::stable_sort(rows.begin(), rows.end(), [sort_key](const TypeRow& a, const TypeRow& b) {
    return sort_key == 'n' ? a.window->name < b.window->name : sort_value(a, sort_key) > sort_value(b, sort_key);
  });
  // Fits 120 columns with the sort named (a wrapped line breaks the table).
  f.add("%-20s %11s %11s %9s %9s %9s %9s  (sorted by %s)\n", "type", "accepted/s", "succeeded/s", "failed/s",
        "retried/s", "limited/s", "ok total", sort_column(sort_key));
  for (const TypeRow& r : rows) {
    const TaskTypeStats& t = *r.window;
    f.add("%-20s %11.0f %11.0f %9.0f %9.0f %9.0f %9llu\n", t.name.c_str(), static_cast<double>(t.accepted) / s,
          static_cast<double>(t.succeeded) / s, static_cast<double>(t.failed_attempts) / s,
          static_cast<double>(t.retried) / s, static_cast<double>(t.rate_limited) / s,
          static_cast<unsigned long long>(r.succeeded_total));
  }
}

// A worker's window in three parts that add up to 100%:
//   busy%          running jobs (its busy_ns counter, counted when a job
//                  ends: a job longer than the window lands in the window
//                  it ends in; needs observability.record_latency);
//   search+steal%  awake but not in a job: looking in its own shard and
//                  stealing from others (awake = on a CPU or runnable, from
//                  the kernel's schedstat);
//   parked%        neither: asleep on the futex (or blocked inside a task).
// Then stranded/s: yields that came back to work left waiting over 1 ms
// (the host's threads had the CPU; the worker parks sooner for a while,
// park/yield_backoff.hpp).
// Without the kernel's numbers parked% is the worker's own counter (counted
// when a park ends) and search+steal% is not shown.
void add_workers(Frame& f, const SnapshotWindow& w, double s) {
  const bool busy_known = w.config.observability.record_latency;
  const double wall_ns = s * 1e9;
  const auto pct = [wall_ns](double ns) { return std::clamp(100.0 * ns / wall_ns, 0.0, 100.0); };
  f.add("%-6s %9s %7s %14s %8s %9s %9s %15s %12s %11s\n", "worker", "jobs/s", "busy%", "search+steal%", "parked%",
        "steals/s", "stolen/s", "runnable-wait%", "preempted/s", "stranded/s");
  for (std::size_t i = 0; i < w.stats.workers.size(); ++i) {
    const WorkerStats& x = w.stats.workers[i];
    const WorkerSched sched = i < w.sched.size() ? w.sched[i] : WorkerSched{};
    const double busy = pct(static_cast<double>(x.busy_ns));
    const double awake = pct(static_cast<double>(sched.run_ns + sched.runnable_wait_ns));
    const double parked = sched.known ? 100.0 - awake : pct(static_cast<double>(x.parked_ns));
    char busy_text[16] = "-", search_text[16] = "-";
    if (busy_known) std::snprintf(busy_text, sizeof busy_text, "%.1f", busy);
    if (busy_known && sched.known) std::snprintf(search_text, sizeof search_text, "%.1f", std::max(0.0, awake - busy));
    f.add("%-6zu %9.0f %7s %14s %8.1f %9.0f %9.0f %15.1f %12.0f %11.2f\n", i, static_cast<double>(x.executed) / s,
          busy_text, search_text, parked, static_cast<double>(x.steal_batches) / s, static_cast<double>(x.stolen) / s,
          pct(static_cast<double>(sched.runnable_wait_ns)), static_cast<double>(sched.involuntary_switches) / s,
          static_cast<double>(x.stranded_yields) / s);
  }
  if (!busy_known) f.add("(busy%% and search+steal%%: the engine runs with observability.record_latency off)\n");
}

std::string frame(const SnapshotWindow& w, View view, char sort_key, const std::string& url) {
  Frame f;
  const double s = w.wall_s > 0 ? w.wall_s : 1;
  add_header(f, w, s, url);
  if (view == View::types) {
    add_types(f, w, s, sort_key);
  } else {
    add_workers(f, w, s);
  }
  return f.take();
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
  char sort_key = 's';
  std::string before = fetch(client, o.attach);
  std::optional<SnapshotWindow> shown;  // redrawn at once when a key changes the view or the sort
  const auto draw = [&] {
    std::fputs("\x1b[H\x1b[2J", stdout);
    std::fputs(frame(*shown, view, sort_key, o.attach).c_str(), stdout);
    std::fflush(stdout);
  };
  auto next = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (!g_interrupted) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next - std::chrono::steady_clock::now());
    const char c = Terminal::key(static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
    if (c == 'q' || c == 'Q') break;
    if (c == 't') view = View::types;
    if (c == 'w') view = View::workers;
    if (c != 0 && sort_column(c) != nullptr) sort_key = c;
    if (std::chrono::steady_clock::now() >= next) {
      std::string after = fetch(client, o.attach);
      shown = snapshot_window(before, after);
      before = std::move(after);
      next += std::chrono::seconds(1);
      draw();
    } else if (c != 0 && shown) {
      draw();
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
    std::fputs(frame(snapshot_window(before, fetch(client, o.attach)), View::types, 's', o.attach).c_str(), stdout);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "brisk top: %s\n", e.what());
    return 1;
  }
}

}  // namespace brisk::tools

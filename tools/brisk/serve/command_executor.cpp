// The command executor (executors.hpp): one child process per attempt, in its
// own process group, fed the payload on stdin; stdout is the result, the tail
// of stderr the error.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "brisk/serve/executors.hpp"

extern char** environ;

namespace brisk::serve {
namespace {

constexpr std::size_t kStderrTail = 2048;

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

bool make_pipe(Fd& read_end, Fd& write_end) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return false;
  read_end.fd = p[0];
  write_end.fd = p[1];
  return true;
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

std::string tail_of(const std::string& s) {
  std::string t = s.size() > kStderrTail ? "..." + s.substr(s.size() - kStderrTail) : s;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return t;
}

class CommandExecutor final : public Executor {
 public:
  CommandExecutor(const TypeConfig& type, std::size_t max_result_bytes, TaskIds ids)
      : type_(type), max_result_bytes_(max_result_bytes), ids_(ids) {
    for (char** e = environ; e && *e; ++e) {
      const std::string entry(*e);
      const std::string key = entry.substr(0, entry.find('='));
      if (type_.env.count(key) || key.rfind("BRISK_", 0) == 0) continue;
      base_env_.push_back(entry);
    }
    for (const auto& [k, v] : type_.env) base_env_.push_back(k + "=" + v);
  }

  Outcome run(TaskContext& task) override {
    Fd in_r, in_w, out_r, out_w, err_r, err_w;
    if (!make_pipe(in_r, in_w) || !make_pipe(out_r, out_w) || !make_pipe(err_r, err_w)) {
      return Outcome::retry(std::string("cannot create pipes: ") + std::strerror(errno));
    }
    std::vector<std::string> env = base_env_;
    env.push_back("BRISK_TASK_ID=" + ids_.text(task.id()));
    env.push_back("BRISK_TASK_TYPE=" + std::string(task.name()));
    env.push_back("BRISK_ATTEMPT=" + std::to_string(task.attempt()));
    env.push_back("BRISK_IDEMPOTENCY_KEY=" + std::string(task.idempotency_key()));
    std::vector<char*> envp;
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = type_.command;
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_r.fd, 0);
    posix_spawn_file_actions_adddup2(&actions, out_w.fd, 1);
    posix_spawn_file_actions_adddup2(&actions, err_w.fd, 2);
    if (!type_.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, type_.cwd.c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group (so the time limit kills everything it started),
    // no blocked signals and default dispositions: brisk serve blocks
    // SIGTERM/SIGINT in its threads and ignores SIGPIPE, which a child would
    // otherwise inherit.
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none, defaults;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigemptyset(&defaults);
    for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&defaults, s);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) return Outcome::retry(type_.command[0] + ": cannot start: " + std::strerror(rc));
    in_r.reset();
    out_w.reset();
    err_w.reset();
    set_nonblocking(in_w.fd);
    set_nonblocking(out_r.fd);
    set_nonblocking(err_r.fd);

    const std::string_view payload = task.payload();
    std::size_t written = 0;
    if (payload.empty()) in_w.reset();
    std::string out, err;
    bool out_over = false;
    auto read_some = [&](Fd& fd, bool is_out) {
      char buf[16384];
      for (;;) {
        const ssize_t n = ::read(fd.fd, buf, sizeof buf);
        if (n > 0) {
          if (is_out) {
            const std::size_t room = max_result_bytes_ + 1 > out.size() ? max_result_bytes_ + 1 - out.size() : 0;
            out.append(buf, std::min<std::size_t>(room, static_cast<std::size_t>(n)));
            if (static_cast<std::size_t>(n) > room) out_over = true;
          } else {
            err.append(buf, static_cast<std::size_t>(n));
            if (err.size() > 4 * kStderrTail) err.erase(0, err.size() - kStderrTail);
          }
          continue;
        }
        if (n == 0) fd.reset();  // EOF
        if (n < 0 && errno == EINTR) continue;
        return;
      }
    };

    const auto deadline = std::chrono::steady_clock::now() + type_.timeout;
    int status = 0;
    bool exited = false;
    const char* killed_for = nullptr;
    while (!exited) {
      pollfd fds[3];
      nfds_t n = 0;
      int idx_in = -1, idx_out = -1, idx_err = -1;
      if (in_w.fd >= 0) { idx_in = static_cast<int>(n); fds[n++] = {in_w.fd, POLLOUT, 0}; }
      if (out_r.fd >= 0) { idx_out = static_cast<int>(n); fds[n++] = {out_r.fd, POLLIN, 0}; }
      if (err_r.fd >= 0) { idx_err = static_cast<int>(n); fds[n++] = {err_r.fd, POLLIN, 0}; }
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        killed_for = "time limit";
        break;
      }
      if (task.cancellation_requested()) {
        killed_for = "cancellation";
        break;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
      // Short polls: the child's exit is noticed by waitpid below (its
      // pipes may stay open in a grandchild), and cancellation is polled.
      const int wait_ms = static_cast<int>(std::min<long long>(left + 1, n == 0 ? 5 : 20));
      const int ready = n == 0 ? (::poll(nullptr, 0, wait_ms), 0) : ::poll(fds, n, wait_ms);
      if (ready > 0) {
        if (idx_in >= 0 && fds[idx_in].revents) {
          if (fds[idx_in].revents & (POLLERR | POLLHUP)) {
            in_w.reset();  // it stopped reading: the rest of the payload is not wanted
          } else {
            const ssize_t w = ::write(in_w.fd, payload.data() + written, payload.size() - written);
            if (w > 0) written += static_cast<std::size_t>(w);
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == payload.size()) in_w.reset();
          }
        }
        if (idx_out >= 0 && fds[idx_out].revents) read_some(out_r, true);
        if (idx_err >= 0 && fds[idx_err].revents) read_some(err_r, false);
      }
      const pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) exited = true;
    }
    if (!exited) {
      ::kill(-pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (out_r.fd >= 0) read_some(out_r, true);
      if (err_r.fd >= 0) read_some(err_r, false);
      return Outcome::retry(std::string(killed_for) + " of " + std::to_string(type_.timeout.count()) +
                            " ms passed: process group killed" + stderr_suffix(err));
    }
    // It exited: what it wrote before is in the pipes (a grandchild that
    // keeps them open is not waited for).
    if (out_r.fd >= 0) read_some(out_r, true);
    if (err_r.fd >= 0) read_some(err_r, false);
    if (WIFSIGNALED(status)) {
      return Outcome::retry("killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                            strsignal(WTERMSIG(status)) + ")" + stderr_suffix(err));
    }
    const int code = WEXITSTATUS(status);
    if (code == 0) {
      if (out_over) {
        return Outcome::fail("stdout is over engine.max_result_bytes (" + std::to_string(max_result_bytes_) + ")");
      }
      task.set_result(out);
      return Outcome::success();
    }
    if (code == 75) return Outcome::retry("exit 75 (EX_TEMPFAIL)" + stderr_suffix(err));
    return Outcome::fail("exit " + std::to_string(code) + stderr_suffix(err));
  }

 private:
  static std::string stderr_suffix(const std::string& err) {
    const std::string t = tail_of(err);
    return t.empty() ? std::string() : ": " + t;
  }

  TypeConfig type_;
  std::size_t max_result_bytes_;
  const TaskIds ids_;
  std::vector<std::string> base_env_;
};

}  // namespace

std::unique_ptr<Executor> make_command_executor(const TypeConfig& type, std::size_t max_result_bytes, TaskIds ids) {
  return std::make_unique<CommandExecutor>(type, max_result_bytes, ids);
}

namespace {
class NoopExecutor final : public Executor {
 public:
  Outcome run(TaskContext&) override { return Outcome::success(); }
};
}  // namespace

std::unique_ptr<Executor> make_executor(const TypeConfig& type, std::size_t max_result_bytes, WebhookLoop& webhooks,
                                        TaskIds ids) {
  switch (type.executor) {
    case ExecutorKind::command: return make_command_executor(type, max_result_bytes, ids);
    case ExecutorKind::webhook: return make_webhook_executor(type, max_result_bytes, webhooks, ids);
    case ExecutorKind::noop: break;
  }
  return std::make_unique<NoopExecutor>();
}

}  // namespace brisk::serve

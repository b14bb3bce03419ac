// The real `brisk serve` binary as a child process of a test: a temp
// directory holding its config (and whatever else the test puts there), the
// port it printed, SIGTERM / SIGKILL, and its exit code. Loopback only.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace brisk::test {

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& text, bool executable = false) {
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
  }
  if (executable) std::filesystem::permissions(p, std::filesystem::perms::owner_all);
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "brisk-serve-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Exit code (or 128 + signal) and everything printed, of `brisk serve --config FILE`.
struct RunResult {
  int exit_code = -1;
  std::string output;
};

inline int exit_code_of(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class ServeProcess {
 public:
  // Starts the binary on `config_path` and waits (up to 30 s) for its
  // "listening on http[s]://HOST:PORT" line. stderr goes to <dir>/serve.log.
  ServeProcess(const std::filesystem::path& config_path, const std::filesystem::path& log_path)
      : log_path_(log_path) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::dup2(log, 2);
      ::execl(BRISK_CLI, BRISK_CLI, "serve", "--config", config_path.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(log);
    stdout_ = out[0];
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (port_ == 0 && std::chrono::steady_clock::now() < deadline) {
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[512];
      const ssize_t n = ::read(stdout_, buf, sizeof buf);
      if (n <= 0) break;  // exited before listening
      text.append(buf, static_cast<std::size_t>(n));
      const auto at = text.find("listening on http");  // http:// or https://
      const auto eol = at == std::string::npos ? std::string::npos : text.find('\n', at);
      if (eol != std::string::npos) {
        const std::string line = text.substr(at, eol - at);
        port_ = std::stoi(line.substr(line.rfind(':') + 1));
      }
    }
    if (port_ == 0) {
      kill9();
      throw std::runtime_error("brisk serve did not print its port; its log:\n" + read_file(log_path_));
    }
  }
  ~ServeProcess() {
    if (pid_ > 0) kill9();
    if (stdout_ >= 0) ::close(stdout_);
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int port() const { return port_; }
  std::string log() const { return read_file(log_path_); }

  httplib::Client client(const std::string& token = {}) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(10);
    c.set_read_timeout(30);
    c.set_write_timeout(10);
    if (!token.empty()) c.set_bearer_token_auth(token);
    return c;
  }

  void signal(int sig) const { ::kill(pid_, sig); }

  // Waits for the exit (up to `timeout`); the exit code, or nullopt if it is still running.
  std::optional<int> wait_exit(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return exit_code_of(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::nullopt;
  }

  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  std::filesystem::path log_path_;
  pid_t pid_ = -1;
  int stdout_ = -1;
  int port_ = 0;
};

// A service with one noop type, `server_extra` added to its [server] section.
struct FrontEnd {
  explicit FrontEnd(const std::string& server_extra) {
    write_file(tmp.path() / "serve.toml", "[server]\nlisten = \"127.0.0.1\"\nport = 0\n" + server_extra +
                                              "\n[types.bench]\nexecutor = \"noop\"\n");
    process = std::make_unique<ServeProcess>(tmp.path() / "serve.toml", tmp.path() / "serve.log");
  }
  TempDir tmp;
  std::unique_ptr<ServeProcess> process;
};

// Runs `brisk serve --config FILE` to its end (for configurations that must be refused).
inline RunResult run_serve_to_exit(const std::filesystem::path& config_path, const std::string& extra_args = "") {
  const std::string cmd = std::string(BRISK_CLI) + " serve --config '" + config_path.string() + "' " + extra_args + " 2>&1";
  RunResult r;
  FILE* f = ::popen(cmd.c_str(), "r");
  char buf[512];
  while (std::fgets(buf, sizeof buf, f)) r.output += buf;
  r.exit_code = exit_code_of(::pclose(f));
  return r;
}

}  // namespace brisk::test

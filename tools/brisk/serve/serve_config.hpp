// `brisk serve` configuration: one TOML file (docs/service.md has every key).
//
//   [server]      listen address and port, HTTP limits and timeouts
//   [engine]      workers, task bounds, what status() remembers
//   [durability]  wal_dir, fsync policy
//   [auth]        bearer tokens and their scopes
//   [types.NAME]  one task type: executor (command or webhook), time limit,
//                 concurrency, rate, retry policy
//
// load_serve_config() reads and checks the whole file before anything
// starts: an unknown key, a wrong type or a value out of range throws
// ServeConfigError naming the key ("types.resize.timeout_ms: must be > 0").
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <brisk/durability.hpp>
#include <brisk/task.hpp>

namespace brisk::serve {

class ServeConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// noop succeeds at once: for measuring the front end and for smoke tests.
enum class ExecutorKind { command, webhook, noop };

struct TypeConfig {
  std::string name;
  ExecutorKind executor = ExecutorKind::command;
  // command: argv (no shell), extra environment, working directory.
  std::vector<std::string> command;
  std::map<std::string, std::string> env;
  std::string cwd;
  // webhook: URL and extra request headers (values are secrets: never logged).
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type = "application/octet-stream";
  // The time limit of one attempt: the command's process group is killed, the
  // webhook request aborted; the attempt is retried.
  std::chrono::milliseconds timeout{30'000};
  std::uint32_t concurrency = 0;  // 0: bounded by the engine's workers only
  double rate_per_second = 0;
  double burst = 0;
  RetryPolicy retry{};
};

struct TokenConfig {
  std::string name;   // for logs and errors; the token itself is never printed
  std::string token;
  bool submit = false;  // POST tasks and batches, GET a task
  bool admin = false;   // cancel, dead letters (and everything submit may do)
};

struct ServeConfig {
  // [server]
  std::string listen = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (printed on stdout)
  unsigned http_threads = 2;  // event-loop threads of the HTTP front end
  std::size_t max_connections = 10'000;
  std::size_t max_body_bytes = 1u << 20;
  std::size_t max_header_bytes = 8192;
  std::chrono::milliseconds read_timeout{5'000};
  std::chrono::milliseconds write_timeout{5'000};
  std::chrono::seconds keep_alive_timeout{5};
  std::size_t keep_alive_max_requests = 10'000;
  std::chrono::milliseconds drain_timeout{30'000};
  std::size_t max_batch = 1'000;
  std::chrono::milliseconds max_wait{30'000};  // GET /v1/tasks/{id}?wait_ms= cap
  bool noop_endpoint = false;  // POST /v1/noop: 202 and nothing else (benchmarks)
  // PEM files, both or neither: with them every connection is HTTPS (TLS 1.2
  // or later); loaded and checked by make_tls_context() (tls_context.hpp).
  std::string tls_cert;
  std::string tls_key;
  // [engine]
  unsigned workers = 8;
  std::uint32_t max_tasks = 1u << 20;
  std::size_t finished_tasks = 100'000;
  std::chrono::seconds finished_retention{3'600};
  std::size_t max_result_bytes = 64u << 10;
  std::chrono::seconds idempotency_retention{86'400};
  std::size_t dead_letter_capacity = 100'000;
  // [durability]
  DurabilityConfig durability;  // wal_dir empty: in memory
  // [auth]
  std::vector<TokenConfig> tokens;  // empty: no authentication (loopback only unless anonymous)
  bool anonymous = false;
  bool public_metrics = true;  // /metrics without a token
  // [types.*]
  std::vector<TypeConfig> types;

  const TypeConfig* find_type(std::string_view name) const noexcept;
};

// Throws ServeConfigError("FILE: key: problem") for anything invalid, and
// for a file that cannot be read or parsed ("FILE:LINE:COL: ...").
ServeConfig load_serve_config(const std::string& path);
// The same from TOML text (tests; `origin` names it in errors).
ServeConfig parse_serve_config(std::string_view toml_text, const std::string& origin);

bool is_loopback_address(const std::string& host) noexcept;

}  // namespace brisk::serve

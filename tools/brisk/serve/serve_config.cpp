#include "brisk/serve/serve_config.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <toml++/toml.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace brisk::serve {
namespace {

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    default: return "a date/time";
  }
}

// One TOML table, read key by key; finish() refuses any key nobody read,
// so a typo ("prot = 8080") is an error rather than a silent default.
class Section {
 public:
  Section(const toml::table* table, std::string path) : table_(table), path_(std::move(path)) {}

  std::string key(std::string_view k) const { return path_.empty() ? std::string(k) : path_ + "." + std::string(k); }

  [[noreturn]] void fail(std::string_view k, const std::string& problem) const {
    throw ServeConfigError(key(k) + ": " + problem);
  }

  const toml::node* node(std::string_view k) {
    seen_.insert(std::string(k));
    return table_ ? table_->get(k) : nullptr;
  }

  std::int64_t integer(std::string_view k, std::int64_t def, std::int64_t min, std::int64_t max) {
    const toml::node* n = node(k);
    if (!n) return def;
    if (!n->is_integer()) fail(k, "expected an integer, got " + type_name(*n));
    const std::int64_t v = n->as_integer()->get();
    if (v < min || v > max) {
      fail(k, "must be " + std::to_string(min) + ".." + std::to_string(max) + " (got " + std::to_string(v) + ")");
    }
    return v;
  }

  double number(std::string_view k, double def, double min, double max) {
    const toml::node* n = node(k);
    if (!n) return def;
    double v = 0;
    if (n->is_integer()) {
      v = static_cast<double>(n->as_integer()->get());
    } else if (n->is_floating_point()) {
      v = n->as_floating_point()->get();
    } else {
      fail(k, "expected a number, got " + type_name(*n));
    }
    if (!std::isfinite(v) || v < min || v > max) {
      std::ostringstream s;
      s << "must be " << min << ".." << max << " (got " << v << ")";
      fail(k, s.str());
    }
    return v;
  }

  bool boolean(std::string_view k, bool def) {
    const toml::node* n = node(k);
    if (!n) return def;
    if (!n->is_boolean()) fail(k, "expected true or false, got " + type_name(*n));
    return n->as_boolean()->get();
  }

  std::string string(std::string_view k, std::string def) {
    const toml::node* n = node(k);
    if (!n) return def;
    if (!n->is_string()) fail(k, "expected a string, got " + type_name(*n));
    return n->as_string()->get();
  }

  std::vector<std::string> strings(std::string_view k) {
    const toml::node* n = node(k);
    if (!n) return {};
    if (!n->is_array()) fail(k, "expected an array of strings, got " + type_name(*n));
    std::vector<std::string> out;
    for (const toml::node& e : *n->as_array()) {
      if (!e.is_string()) fail(k, "expected an array of strings, found " + type_name(e) + " in it");
      out.push_back(e.as_string()->get());
    }
    return out;
  }

  // A sub-table, or nullptr when absent.
  const toml::table* table(std::string_view k) {
    const toml::node* n = node(k);
    if (!n) return nullptr;
    if (!n->is_table()) fail(k, "expected a table, got " + type_name(*n));
    return n->as_table();
  }

  void finish() const {
    if (!table_) return;
    for (const auto& [k, v] : *table_) {
      if (!seen_.count(std::string(k.str()))) throw ServeConfigError(key(k.str()) + ": unknown key");
    }
  }

 private:
  const toml::table* table_;
  std::string path_;
  std::set<std::string> seen_;
};

std::chrono::milliseconds millis(Section& s, std::string_view k, std::chrono::milliseconds def, std::int64_t min,
                                  std::int64_t max) {
  return std::chrono::milliseconds(s.integer(k, def.count(), min, max));
}

constexpr std::int64_t kDay = 86'400'000;

TypeConfig read_type(const std::string& name, const toml::table* t, const std::string& path) {
  Section s(t, path);
  TypeConfig type;
  type.name = name;
  const std::string executor = s.string("executor", "");
  if (executor == "command") {
    type.executor = ExecutorKind::command;
  } else if (executor == "webhook") {
    type.executor = ExecutorKind::webhook;
  } else if (executor == "noop") {
    type.executor = ExecutorKind::noop;
  } else if (executor.empty()) {
    s.fail("executor", "required: \"command\", \"webhook\" or \"noop\"");
  } else {
    s.fail("executor", "must be \"command\", \"webhook\" or \"noop\" (got \"" + executor + "\")");
  }
  type.timeout = millis(s, "timeout_ms", type.timeout, 1, kDay);
  type.concurrency = static_cast<std::uint32_t>(s.integer("concurrency", 0, 0, 1'000'000));
  type.rate_per_second = s.number("rate_per_second", 0, 0, 1e9);
  type.burst = s.number("burst", 0, 0, 1e9);

  Section retry(s.table("retry"), s.key("retry"));
  type.retry.max_attempts = static_cast<std::uint32_t>(retry.integer("max_attempts", 3, 1, 1'000'000));
  type.retry.base = millis(retry, "base_ms", type.retry.base, 0, kDay);
  type.retry.cap = millis(retry, "cap_ms", type.retry.cap, 0, 30 * kDay);
  type.retry.jitter = retry.boolean("jitter", true);
  if (type.retry.cap < type.retry.base) retry.fail("cap_ms", "must be >= base_ms");
  retry.finish();

  if (type.executor == ExecutorKind::command) {
    type.command = s.strings("command");
    if (type.command.empty() || type.command[0].empty()) s.fail("command", "required: [\"/path/to/program\", \"arg\", ...]");
    if (type.command[0].find('/') == std::string::npos) {
      s.fail("command", "the program must be a path (\"" + type.command[0] + "\" has no '/'): the service searches no PATH");
    }
    if (::access(type.command[0].c_str(), X_OK) != 0) {
      s.fail("command", "\"" + type.command[0] + "\" is not an executable file");
    }
    type.cwd = s.string("cwd", "");
    Section env(s.table("env"), s.key("env"));
    if (const toml::table* e = s.table("env")) {
      for (const auto& [k, v] : *e) {
        if (!v.is_string()) env.fail(k.str(), "expected a string, got " + type_name(v));
        type.env[std::string(k.str())] = v.as_string()->get();
      }
    }
  } else if (type.executor == ExecutorKind::webhook) {
    type.url = s.string("url", "");
    if (type.url.rfind("http://", 0) != 0 && type.url.rfind("https://", 0) != 0) {
      s.fail("url", type.url.empty() ? "required: \"http://host:port/path\"" : "must start with http:// or https://");
    }
    type.content_type = s.string("content_type", type.content_type);
    if (const toml::table* h = s.table("headers")) {
      Section headers(h, s.key("headers"));
      for (const auto& [k, v] : *h) {
        if (!v.is_string()) headers.fail(k.str(), "expected a string, got " + type_name(v));
        type.headers.emplace_back(std::string(k.str()), v.as_string()->get());
      }
    }
  }
  s.finish();
  return type;
}

ServeConfig read(const toml::table& root) {
  ServeConfig c;
  Section top(&root, "");

  Section server(top.table("server"), "server");
  c.listen = server.string("listen", c.listen);
  if (c.listen.empty()) server.fail("listen", "must not be empty");
  c.port = static_cast<std::uint16_t>(server.integer("port", c.port, 0, 65535));
  c.http_threads = static_cast<unsigned>(server.integer("threads", c.http_threads, 1, 256));
  c.max_connections = static_cast<std::size_t>(server.integer("max_connections", c.max_connections, 1, 1'000'000));
  c.max_body_bytes = static_cast<std::size_t>(server.integer("max_body_bytes", c.max_body_bytes, 1, 1ll << 30));
  c.max_header_bytes = static_cast<std::size_t>(server.integer("max_header_bytes", c.max_header_bytes, 256, 1 << 20));
  c.read_timeout = millis(server, "read_timeout_ms", c.read_timeout, 1, 3'600'000);
  c.write_timeout = millis(server, "write_timeout_ms", c.write_timeout, 1, 3'600'000);
  c.keep_alive_timeout = std::chrono::seconds(server.integer("keep_alive_timeout_s", c.keep_alive_timeout.count(), 1, 3'600));
  c.keep_alive_max_requests =
      static_cast<std::size_t>(server.integer("keep_alive_max_requests", c.keep_alive_max_requests, 1, 1ll << 40));
  c.drain_timeout = millis(server, "drain_timeout_ms", c.drain_timeout, 1, kDay);
  c.max_batch = static_cast<std::size_t>(server.integer("max_batch", c.max_batch, 1, 1'000'000));
  c.max_wait = millis(server, "max_wait_ms", c.max_wait, 0, 3'600'000);
  c.noop_endpoint = server.boolean("noop_endpoint", false);
  c.tls_cert = server.string("tls_cert", "");
  c.tls_key = server.string("tls_key", "");
  if (server.node("tls_cert") && c.tls_cert.empty()) server.fail("tls_cert", "must not be empty (a PEM file)");
  if (server.node("tls_key") && c.tls_key.empty()) server.fail("tls_key", "must not be empty (a PEM file)");
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    server.fail(c.tls_cert.empty() ? "tls_cert" : "tls_key",
                "required with server." + std::string(c.tls_cert.empty() ? "tls_key" : "tls_cert") +
                    ": TLS takes both a certificate chain and its private key (or neither)");
  }
  server.finish();

  Section engine(top.table("engine"), "engine");
  c.workers = static_cast<unsigned>(engine.integer("workers", c.workers, 1, 1024));
  c.max_tasks = static_cast<std::uint32_t>(engine.integer("max_tasks", c.max_tasks, 1, 1ll << 31));
  c.finished_tasks = static_cast<std::size_t>(engine.integer("finished_tasks", c.finished_tasks, 0, 1ll << 32));
  c.finished_retention = std::chrono::seconds(engine.integer("finished_retention_s", c.finished_retention.count(), 1, 30 * 86'400));
  c.max_result_bytes = static_cast<std::size_t>(engine.integer("max_result_bytes", c.max_result_bytes, 0, 64ll << 20));
  c.idempotency_retention =
      std::chrono::seconds(engine.integer("idempotency_retention_s", c.idempotency_retention.count(), 1, 365 * 86'400));
  c.dead_letter_capacity = static_cast<std::size_t>(engine.integer("dead_letter_capacity", c.dead_letter_capacity, 1, 1ll << 32));
  engine.finish();

  Section durability(top.table("durability"), "durability");
  c.durability.wal_dir = durability.string("wal_dir", "");
  const std::string fsync = durability.string("fsync", "always");
  if (fsync == "always") {
    c.durability.fsync = FsyncPolicy::always;
  } else if (fsync == "interval") {
    c.durability.fsync = FsyncPolicy::interval;
  } else if (fsync == "never") {
    c.durability.fsync = FsyncPolicy::never;
  } else {
    durability.fail("fsync", "must be \"always\", \"interval\" or \"never\" (got \"" + fsync + "\")");
  }
  c.durability.fsync_interval = millis(durability, "fsync_interval_ms", c.durability.fsync_interval, 1, 3'600'000);
  durability.finish();

  Section auth(top.table("auth"), "auth");
  c.anonymous = auth.boolean("anonymous", false);
  c.public_metrics = auth.boolean("public_metrics", true);
  if (const toml::node* tokens = auth.node("tokens")) {
    if (!tokens->is_array_of_tables()) auth.fail("tokens", "expected [[auth.tokens]] tables, got " + type_name(*tokens));
    std::size_t i = 0;
    for (const toml::node& n : *tokens->as_array()) {
      Section t(n.as_table(), "auth.tokens[" + std::to_string(i++) + "]");
      TokenConfig token;
      token.name = t.string("name", "token " + std::to_string(i));
      token.token = t.string("token", "");
      const std::string env = t.string("token_env", "");
      if (!token.token.empty() && !env.empty()) t.fail("token_env", "give token or token_env, not both");
      if (!env.empty()) {
        const char* v = std::getenv(env.c_str());
        if (!v || !*v) t.fail("token_env", "environment variable " + env + " is not set or empty");
        token.token = v;
      }
      if (token.token.empty()) t.fail("token", "required (or token_env)");
      if (token.token.size() < 16) t.fail(token.token.empty() ? "token_env" : "token", "too short: at least 16 characters");
      for (const std::string& scope : t.strings("scopes")) {
        if (scope == "submit") {
          token.submit = true;
        } else if (scope == "admin") {
          token.admin = true;
        } else {
          t.fail("scopes", "unknown scope \"" + scope + "\" (\"submit\" or \"admin\")");
        }
      }
      if (!token.submit && !token.admin) t.fail("scopes", "required: [\"submit\"], [\"admin\"] or both");
      t.finish();
      c.tokens.push_back(std::move(token));
    }
  }
  auth.finish();
  if (c.tokens.empty() && !c.anonymous && !is_loopback_address(c.listen)) {
    throw ServeConfigError("auth.tokens: required when server.listen (" + c.listen +
                           ") is not a loopback address; or set auth.anonymous = true to serve without tokens");
  }

  const toml::table* types = top.table("types");
  if (!types || types->empty()) top.fail("types", "at least one task type is required ([types.NAME])");
  for (const auto& [k, v] : *types) {
    const std::string name(k.str());
    const std::string path = "types." + name;
    if (!v.is_table()) throw ServeConfigError(path + ": expected a table, got " + type_name(v));
    if (name.size() > 128) throw ServeConfigError(path + ": type names are at most 128 characters");
    for (char ch : name) {
      const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
                      ch == '-' || ch == '.';
      if (!ok) throw ServeConfigError(path + ": a type name may hold only letters, digits, '_', '-' and '.'");
    }
    c.types.push_back(read_type(name, v.as_table(), path));
  }
  top.finish();
  return c;
}

ServeConfig parse_checked(std::string_view text, const std::string& origin) {
  try {
    return read(toml::parse(text, origin));
  } catch (const toml::parse_error& e) {
    std::ostringstream s;
    s << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    throw ServeConfigError(s.str());
  } catch (const ServeConfigError& e) {
    throw ServeConfigError(origin + ": " + e.what());
  }
}

}  // namespace

const TypeConfig* ServeConfig::find_type(std::string_view name) const noexcept {
  for (const TypeConfig& t : types) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

bool is_loopback_address(const std::string& host) noexcept {
  if (host == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

ServeConfig parse_serve_config(std::string_view toml_text, const std::string& origin) {
  return parse_checked(toml_text, origin);
}

ServeConfig load_serve_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ServeConfigError(path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_checked(text.str(), path);
}

}  // namespace brisk::serve

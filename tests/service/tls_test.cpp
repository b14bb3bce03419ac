// `brisk serve` over TLS (server.tls_cert, server.tls_key): a self-signed
// certificate made at test time with the `openssl` command, a real HTTPS
// client (cpp-httplib's https:// Client, Debian builds it with OpenSSL) that
// trusts only that certificate, raw sockets for what must fail. No timing
// asserts beyond generous bounds far from the limits checked.
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "service/raw_socket.hpp"
#include "service/service_process.hpp"

namespace brisk::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct CertFiles {
  fs::path cert;
  fs::path key;
};

// A fresh RSA key and a self-signed certificate for 127.0.0.1 (as its
// subjectAltName, which clients check), valid for a day.
CertFiles make_cert(const fs::path& dir, const std::string& name) {
  CertFiles f{dir / (name + ".crt"), dir / (name + ".key")};
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -keyout '" + f.key.string() + "' -out '" +
                          f.cert.string() + "' -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 " +
                          ">/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl req failed: " + cmd);
  return f;
}

std::string tls_settings(const CertFiles& f) {
  return "tls_cert = \"" + f.cert.string() + "\"\ntls_key = \"" + f.key.string() + "\"\n";
}

httplib::Client https_client(int port, const fs::path& ca) {
  httplib::Client c("https://127.0.0.1:" + std::to_string(port));
  c.set_ca_cert_path(ca.c_str());
  c.enable_server_certificate_verification(true);
  c.set_connection_timeout(10);
  c.set_read_timeout(30);
  return c;
}

// Submit and read a task over HTTPS; a client that does not trust the
// certificate, or speaks plain HTTP to the port, gets no HTTP answer; a
// client that opens a connection and never finishes its handshake (silent,
// or half a ClientHello) is cut off after read_timeout_ms, long before the
// idle keep-alive limit, while other clients are served on the one thread.
TEST(ServeTls, HttpsServesPlainHttpAndStalledHandshakesDoNot) {
  TempDir certs;
  const CertFiles f = make_cert(certs.path(), "service");
  FrontEnd service("threads = 1\nread_timeout_ms = 1000\nkeep_alive_timeout_s = 120\n" + tls_settings(f));
  const int port = service.process->port();

  Socket silent(port);
  Socket half(port);
  ASSERT_TRUE(silent.connected() && half.connected());
  ASSERT_TRUE(half.send(std::string("\x16\x03\x01\x02\x00\x01", 6)));  // a record of 512 bytes announced, 1 sent
  const auto stalled_at = std::chrono::steady_clock::now();

  httplib::Client c = https_client(port, f.cert);
  auto r = c.Post("/v1/tasks/bench", "over tls", "application/octet-stream");
  ASSERT_TRUE(r) << "no HTTPS answer: " << httplib::to_string(r.error()) << "\n" << service.process->log();
  EXPECT_EQ(r->status, 202) << r->body;
  const std::string id = json::parse(r->body, nullptr, false).value("id", "");
  ASSERT_FALSE(id.empty()) << r->body;
  EXPECT_EQ(r->get_header_value("Location"), "/v1/tasks/" + id);
  r = c.Get(("/v1/tasks/" + id + "?wait_ms=20000").c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(json::parse(r->body, nullptr, false).value("state", ""), "succeeded") << r->body;

  EXPECT_TRUE(silent.closed_by_peer(std::chrono::seconds(30))) << "a silent connection was never cut off";
  EXPECT_TRUE(half.closed_by_peer(std::chrono::seconds(30))) << "a stalled handshake was never cut off";
  EXPECT_LT(std::chrono::steady_clock::now() - stalled_at, std::chrono::seconds(30))
      << "cut off by the 120 s keep-alive limit, not read_timeout_ms";

  {
    Socket plain(port);
    ASSERT_TRUE(plain.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
    EXPECT_FALSE(plain.read_response(std::chrono::seconds(30))) << "plain HTTP was answered on the TLS port";
  }
  {
    // Trusting the system's CAs only: the self-signed certificate fails.
    httplib::Client untrusting("https://127.0.0.1:" + std::to_string(port));
    untrusting.enable_server_certificate_verification(true);
    untrusting.set_connection_timeout(10);
    EXPECT_FALSE(untrusting.Get("/healthz"));
  }
  httplib::Client again = https_client(port, f.cert);
  r = again.Get("/healthz");
  ASSERT_TRUE(r) << "not served after the refusals";
  EXPECT_EQ(r->status, 200);
}

// Both files or neither; each must be readable PEM and the key must be the
// certificate's: otherwise exit 2 naming the key (--check too), never a crash.
TEST(ServeTls, InvalidTlsSettingsExitTwoNamingTheKey) {
  TempDir tmp;
  const CertFiles a = make_cert(tmp.path(), "a");
  const CertFiles b = make_cert(tmp.path(), "b");
  write_file(tmp.path() / "garbage.pem", "not a certificate\n");
  const std::string missing = (tmp.path() / "missing.pem").string();
  auto quoted = [](const fs::path& p) { return "\"" + p.string() + "\""; };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"tls_cert = " + quoted(a.cert) + "\n", "server.tls_key: required with server.tls_cert"},
      {"tls_key = " + quoted(a.key) + "\n", "server.tls_cert: required with server.tls_key"},
      {"tls_cert = \"\"\ntls_key = \"\"\n", "server.tls_cert: must not be empty"},
      {"tls_cert = \"" + missing + "\"\ntls_key = " + quoted(a.key) + "\n", "server.tls_cert: cannot read"},
      {"tls_cert = " + quoted(a.cert) + "\ntls_key = \"" + missing + "\"\n", "server.tls_key: cannot read"},
      {"tls_cert = " + quoted(tmp.path() / "garbage.pem") + "\ntls_key = " + quoted(a.key) + "\n",
       "server.tls_cert: \"" + (tmp.path() / "garbage.pem").string() + "\" is not a PEM certificate"},
      {"tls_cert = " + quoted(a.cert) + "\ntls_key = " + quoted(a.cert) + "\n", "server.tls_key: "},
      {"tls_cert = " + quoted(a.cert) + "\ntls_key = " + quoted(b.key) + "\n",
       "server.tls_key: \"" + b.key.string() + "\" does not match the certificate in server.tls_cert"},
  };
  for (const auto& [settings, expected] : cases) {
    write_file(tmp.path() / "serve.toml", "[server]\nport = 0\n" + settings + "[types.a]\nexecutor = \"noop\"\n");
    for (const std::string args : {"", "--check"}) {
      const RunResult r = run_serve_to_exit(tmp.path() / "serve.toml", args);
      EXPECT_EQ(r.exit_code, 2) << settings << args << "\n" << r.output;
      EXPECT_NE(r.output.find("invalid configuration"), std::string::npos) << r.output;
      EXPECT_NE(r.output.find(expected), std::string::npos) << "expected '" << expected << "' in: " << r.output;
    }
  }
  write_file(tmp.path() / "serve.toml", "[server]\nport = 0\n" + tls_settings(a) + "[types.a]\nexecutor = \"noop\"\n");
  const RunResult ok = run_serve_to_exit(tmp.path() / "serve.toml", "--check");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
}

}  // namespace
}  // namespace brisk::test

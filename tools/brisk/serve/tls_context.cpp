#include "brisk/serve/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

namespace brisk::serve {
namespace {

namespace ssl = boost::asio::ssl;

[[noreturn]] void fail(const std::string& key, const std::string& problem) {
  throw ServeConfigError("server." + key + ": " + problem);
}

void check_readable(const std::string& key, const std::string& path) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  const int error = errno;
  if (!in) fail(key, "cannot read \"" + path + "\": " + std::strerror(error));
  if (in.peek() == std::ifstream::traits_type::eof()) fail(key, "\"" + path + "\" is empty or not a file");
}

// Why OpenSSL refused: asio took the first (root) reason of its error
// queue into `ec` ("no start line", "bad decrypt"); the rest is dropped.
std::string openssl_reason(const boost::system::error_code& ec) {
  ERR_clear_error();
  return ec.message();
}

}  // namespace

std::shared_ptr<ssl::context> make_tls_context(const ServeConfig& config) {
  if (config.tls_cert.empty()) return nullptr;
  check_readable("tls_cert", config.tls_cert);
  check_readable("tls_key", config.tls_key);
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1) {
    throw ServeConfigError("server.tls_cert: OpenSSL refuses a minimum protocol of TLS 1.2");
  }
  // An encrypted key gets an empty passphrase (and fails) instead of a prompt on the terminal.
  ctx->set_password_callback([](std::size_t, ssl::context::password_purpose) { return std::string(); });
  boost::system::error_code ec;
  // The key first: loading the chain after it drops a key that does not
  // match, which check_private_key then names as a mismatch.
  if (ctx->use_private_key_file(config.tls_key, ssl::context::pem, ec)) {
    fail("tls_key", "\"" + config.tls_key + "\" is not an unencrypted PEM private key (" + openssl_reason(ec) + ")");
  }
  if (ctx->use_certificate_chain_file(config.tls_cert, ec)) {
    fail("tls_cert", "\"" + config.tls_cert + "\" is not a PEM certificate chain (" + openssl_reason(ec) + ")");
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    ERR_clear_error();
    fail("tls_key", "\"" + config.tls_key + "\" does not match the certificate in server.tls_cert (\"" +
                        config.tls_cert + "\")");
  }
  return ctx;
}

}  // namespace brisk::serve

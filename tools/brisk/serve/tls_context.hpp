// The TLS side of `brisk serve` (server.tls_cert, server.tls_key): an
// OpenSSL server context for the HTTP front end, TLS 1.2 or later only.
#pragma once

#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "brisk/serve/serve_config.hpp"

namespace brisk::serve {

// nullptr when the config has no TLS. Reads both PEM files now, before the
// service starts: a file that cannot be read, is not PEM (an encrypted key
// included: nothing prompts for a passphrase) or a key that does not match
// the certificate throws ServeConfigError naming the key
// ("server.tls_key: does not match the certificate in server.tls_cert").
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const ServeConfig& config);

}  // namespace brisk::serve

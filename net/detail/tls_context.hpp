#pragma once

// Private to net/: TLS contexts and per-connection TLS settings. The definitions live in net/tls_context.cpp, which
// includes OpenSSL and Asio's ssl::context but no Beast; this header includes neither.

#include <memory>
#include <string>

#include <boost/system/error_code.hpp>

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

struct ssl_st; // OpenSSL's SSL

namespace feedrouter {

/// A TLS context: shared by every connection of one client or one server, and safe to share between threads.
using tls_context_ptr = std::shared_ptr<boost::asio::ssl::context>;

/// Returns a client context that speaks TLS 1.2 or later and verifies the peer's certificate chain against the PEM
/// bundle `ca_file`, or against the system's default store when `ca_file` is empty. With `insecure_skip_verify` the
/// peer is not verified at all. Throws std::runtime_error with a one-line message when `ca_file` cannot be loaded.
tls_context_ptr make_client_tls_context(const std::string& ca_file, bool insecure_skip_verify);

/// Returns a server context that speaks TLS 1.2 or later with the certificate chain in `cert_file` and the private
/// key in `key_file` (both PEM). Throws std::runtime_error with a one-line message when either cannot be loaded or
/// they do not belong together.
tls_context_ptr make_server_tls_context(const std::string& cert_file, const std::string& key_file);

/// Prepares one client connection to `host` before its handshake: sends `host` as SNI unless it is an IP address,
/// and, when the context verifies peers, makes the verification require a certificate for `host`.
boost::system::error_code prepare_client_tls(ssl_st* ssl, const std::string& host);

/// Returns why the peer's certificate was rejected (e.g. "hostname mismatch"), or an empty string if it was not.
std::string tls_verify_failure(const ssl_st* ssl);

} // namespace feedrouter

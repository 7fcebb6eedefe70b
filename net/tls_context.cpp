#include "net/detail/tls_context.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509err.h>
#include <openssl/x509v3.h>

namespace feedrouter {

namespace {

namespace asio = boost::asio;

/// Oldest protocol version spoken, as the issue asks: TLS 1.0 and 1.1 are deprecated (RFC 8996).
constexpr int min_tls_version = TLS1_2_VERSION;

/// Returns the reason of the first (root-cause) OpenSSL error in the queue and clears the queue.
std::string take_openssl_error() {
  auto code = ERR_peek_error();
  ERR_clear_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  return reason != nullptr ? reason : "unknown OpenSSL error";
}

/// Throws if `path` cannot be opened for reading, naming the file and the system's reason. OpenSSL's own message for
/// a missing file does not say which one, so this check comes first.
void require_readable(const char* what, const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file{std::fopen(path.c_str(), "r"), &std::fclose};
  if (!file)
    throw std::runtime_error(std::string{"cannot read "} + what + " " + path + ": " + std::strerror(errno));
}

/// Throws for a file that could be read but not used: what it should hold, then OpenSSL's terse reason.
[[noreturn]] void throw_load_error(const char* what, const std::string& path, const char* expected) {
  throw std::runtime_error(std::string{"cannot load "} + what + " " + path + ": " + expected + " ("
                           + take_openssl_error() + ")");
}

/// A password callback that has none: an encrypted key fails to load instead of prompting on the terminal.
int no_password(char*, int, int, void*) {
  return 0;
}

/// Returns a context for `method` that speaks TLS 1.2 or later.
tls_context_ptr make_context(asio::ssl::context::method method) {
  auto ctx = std::make_shared<asio::ssl::context>(method);
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), min_tls_version) != 1)
    throw std::runtime_error("cannot set the minimum TLS version: " + take_openssl_error());
  return ctx;
}

} // namespace

tls_context_ptr make_client_tls_context(const std::string& ca_file, bool insecure_skip_verify) {
  auto ctx = make_context(asio::ssl::context::tls_client);
  auto* native = ctx->native_handle();
  if (insecure_skip_verify) {
    SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
    return ctx;
  }
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  if (ca_file.empty()) {
    // A missing system store is not an error here: every handshake then fails verification, and says so.
    if (SSL_CTX_set_default_verify_paths(native) != 1)
      ERR_clear_error();
    return ctx;
  }
  require_readable("CA file", ca_file);
  if (SSL_CTX_load_verify_locations(native, ca_file.c_str(), nullptr) != 1)
    throw_load_error("CA file", ca_file, "expected PEM certificates");
  return ctx;
}

tls_context_ptr make_server_tls_context(const std::string& cert_file, const std::string& key_file) {
  require_readable("TLS certificate", cert_file);
  require_readable("TLS key", key_file);
  auto ctx = make_context(asio::ssl::context::tls_server);
  auto* native = ctx->native_handle();
  SSL_CTX_set_default_passwd_cb(native, &no_password);
  if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1)
    throw_load_error("TLS certificate", cert_file, "expected PEM certificates");
  // OpenSSL compares the key with the certificate as it loads it.
  if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    auto code = ERR_peek_last_error();
    if (ERR_GET_LIB(code) != ERR_LIB_X509 || ERR_GET_REASON(code) != X509_R_KEY_VALUES_MISMATCH)
      throw_load_error("TLS key", key_file, "expected an unencrypted PEM private key");
    ERR_clear_error();
    throw std::runtime_error("TLS key " + key_file + " does not match certificate " + cert_file);
  }
  // No client of ours renegotiates; allowing it would let any peer make the server run handshakes at will.
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  return ctx;
}

boost::system::error_code prepare_client_tls(ssl_st* ssl, const std::string& host) {
  auto fail = [] {
    auto code = ERR_peek_last_error();
    ERR_clear_error();
    return boost::system::error_code{static_cast<int>(code), asio::error::get_ssl_category()};
  };
  boost::system::error_code not_an_address;
  asio::ip::make_address(host, not_an_address);
  auto is_address = !not_an_address;
  // SNI carries host names only (RFC 6066 section 3).
  if (!is_address && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1)
    return fail();
  if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) == 0)
    return {};
  // OpenSSL checks the name during chain verification, so a mismatch fails the handshake like a bad chain does.
  if (is_address) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1)
      return fail();
    return {};
  }
  // "*.example.com" matches "a.example.com"; "a*.example.com" matches nothing, as browsers do.
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, host.c_str()) != 1)
    return fail();
  return {};
}

std::string tls_verify_failure(const ssl_st* ssl) {
  auto result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK)
    return {};
  return X509_verify_cert_error_string(result);
}

} // namespace feedrouter

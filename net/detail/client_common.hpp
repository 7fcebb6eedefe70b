#pragma once

// Private to net/: what the pooled client (http_client.cpp) and the streaming client (http_stream.cpp) share. Includes
// Beast; only those two translation units include this header.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/message.hpp>

#include "core/egress_policy.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "core/url.hpp"
#include "net/detail/asio_context.hpp"
#include "net/detail/egress_gate.hpp"
#include "net/detail/tls_context.hpp"
#include "net/http_client.hpp"
#include "net/http_message.hpp"

namespace feedrouter::client_detail {

namespace beast = boost::beast;
namespace http = beast::http;

inline constexpr char user_agent[] = "feedrouter";

inline constexpr std::uint16_t http_default_port = 80;
inline constexpr std::uint16_t https_default_port = 443;

/// Largest response header accepted.
inline constexpr std::uint32_t response_header_limit = 64 * 1024;

/// Returns the error text for a failed step: "timeout" for the request deadline, else "step: reason".
inline std::string error_text(const char* step, beast::error_code ec) {
  if (ec == beast::error::timeout)
    return "timeout";
  std::string result{step};
  result += ": ";
  result += ec.message();
  return result;
}

/// Returns the tenant's kind of a failed read of a response: too_large past a limit, otherwise no_response.
inline transport_failure read_failure(beast::error_code ec) {
  if (ec == http::error::body_limit || ec == http::error::header_limit)
    return transport_failure::too_large;
  return transport_failure::no_response;
}

/// Returns the error text for a failed TLS handshake; a rejected certificate also says why, e.g.
/// "tls handshake: certificate verify failed (self-signed certificate)".
inline std::string handshake_error_text(beast::error_code ec, const ssl_st* ssl) {
  auto result = error_text("tls handshake", ec);
  if (ec.category() != asio::error::get_ssl_category())
    return result;
  auto why = tls_verify_failure(ssl);
  if (!why.empty())
    result += " (" + why + ")";
  return result;
}

/// Returns the Host header for `where`: host[:port], the port left out when it is the scheme's default.
inline std::string host_field_of(const url& where) {
  auto default_port = where.scheme == "https" ? https_default_port : http_default_port;
  if (where.port != default_port)
    return format_host_port(where.host, where.port);
  // An IPv6 address keeps its brackets even without a port.
  if (where.host.find(':') != std::string::npos)
    return '[' + where.host + ']';
  return where.host;
}

/// Returns whether `method` is an HTTP token (RFC 9110 section 5.6.2); anything else would corrupt the request line.
inline bool is_valid_method(std::string_view method) noexcept {
  constexpr std::string_view token_symbols = "!#$%&'*+-.^_`|~";
  return std::all_of(method.begin(), method.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || token_symbols.find(c) != std::string_view::npos;
  });
}

/// Returns whether `target` can go into a request line: printable ASCII without spaces, starting with '/'.
inline bool is_valid_target(std::string_view target) noexcept {
  return !target.empty() && target.front() == '/' && std::all_of(target.begin(), target.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f;
  });
}

/// Returns the problem with a request to `where` ("unsupported URL: ...", "invalid method: ..."), or an empty string.
inline std::string request_problem(const url& where, const http_request& msg) {
  if ((where.scheme != "http" && where.scheme != "https") || where.host.empty())
    return "unsupported URL: " + where.origin();
  if (!is_valid_method(msg.method))
    return "invalid method: " + msg.method;
  if (!is_valid_target(where.target))
    return "invalid target: " + where.target;
  return {};
}

/// Fills `req` (fresh) from `msg` for `target` on `host_field`; the body is moved out of `msg`.
///
/// The transport owns the destination, framing and the connection, so Host, the framing and hop-by-hop headers
/// (is_transport_header) from `msg` are dropped: the Host is always the one the connection was made (and the egress
/// policy checked) for. So is any field with a line break, which would split the request. User-Agent is set unless
/// `msg` has it.
inline void build_request(http::request<http::string_body>& req, http_request& msg, const std::string& target,
                          const std::string& host_field, bool keep_alive) {
  req = {};
  req.version(11);
  req.method_string(msg.method.empty() ? "GET" : msg.method);
  req.target(target);
  bool has_user_agent = false;
  for (const auto& [name, value] : msg.fields) {
    if (is_transport_header(name) || has_line_break(name) || has_line_break(value))
      continue;
    has_user_agent = has_user_agent || iequals(name, "user-agent");
    req.insert(name, value);
  }
  req.set(http::field::host, host_field);
  if (!has_user_agent)
    req.set(http::field::user_agent, user_agent);
  req.set(http::field::connection, keep_alive ? "keep-alive" : "close");
  req.body() = std::move(msg.body);
  req.prepare_payload();
}

} // namespace feedrouter::client_detail

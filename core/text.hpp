#pragma once

// Small text helpers that every layer shares: ASCII case, HTTP whitespace and lists, hex, host:port.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace feedrouter {

/// Returns `c` lower-cased if it is an ASCII capital letter; any other byte unchanged.
constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Returns `text` with its ASCII capital letters lower-cased.
std::string ascii_lowercase(std::string_view text);

/// Returns whether `x` and `y` are equal ignoring ASCII case (HTTP field names, tokens, cron names).
bool iequals(std::string_view x, std::string_view y) noexcept;

/// Returns whether `text` starts with `prefix`, ignoring ASCII case.
bool istarts_with(std::string_view text, std::string_view prefix) noexcept;

/// Returns `text` without leading and trailing optional whitespace (space and tab, RFC 9110 "OWS").
std::string_view trim_ows(std::string_view text) noexcept;

/// Returns whether the comma-separated field value `value` lists `token` (case-insensitive), as in
/// "Connection: keep-alive, close".
bool has_token(std::string_view value, std::string_view token) noexcept;

/// Returns whether a header name or value contains CR or LF, which would split the message it is written into.
bool has_line_break(std::string_view text) noexcept;

/// Appends the lower-case hex digits of `bytes`, two per byte.
void append_hex(std::string& out, std::string_view bytes);

/// Returns the lower-case hex digits of `bytes`, two per byte.
std::string to_hex(std::string_view bytes);

/// Appends `value` as exactly 16 lower-case hex digits.
void append_hex_u64(std::string& out, std::uint64_t value);

/// Returns the value of 1 to 16 lower-case hex digits; nullopt for any other text.
std::optional<std::uint64_t> parse_hex_u64(std::string_view digits) noexcept;

/// Returns "host:port", with brackets around an IPv6 address.
std::string format_host_port(std::string_view host, std::uint16_t port);

/// Returns whether `name` is a request header that an HTTP client owns rather than its caller: Host (it picks the
/// site a shared front end routes to), the framing headers (Content-Length, Transfer-Encoding), the hop-by-hop ones
/// (Connection, Keep-Alive, TE, Trailer, Upgrade and every Proxy-* header, RFC 9110 section 7.6.1) and Expect.
bool is_transport_header(std::string_view name) noexcept;

} // namespace feedrouter

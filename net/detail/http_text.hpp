#pragma once

// Private to net/: small text helpers shared by the HTTP server and client. No Asio, no Beast.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace feedrouter {

/// Returns `c` lower-cased if it is an ASCII capital letter.
inline char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Returns whether `x` and `y` are equal ignoring ASCII case; field names and tokens are ASCII (RFC 9110).
inline bool iequals(std::string_view x, std::string_view y) noexcept {
  return x.size() == y.size()
         && std::equal(x.begin(), x.end(), y.begin(),
                       [](char a, char b) { return ascii_lower(a) == ascii_lower(b); });
}

/// Returns whether the comma-separated field value `value` lists `token` (case-insensitive), as in
/// "Connection: keep-alive, close".
inline bool has_token(std::string_view value, std::string_view token) noexcept {
  constexpr std::string_view blanks = " \t";
  while (!value.empty()) {
    auto comma = value.find(',');
    auto item = value.substr(0, comma);
    auto first = item.find_first_not_of(blanks);
    if (first != std::string_view::npos) {
      item = item.substr(first, item.find_last_not_of(blanks) - first + 1);
      if (iequals(item, token))
        return true;
    }
    if (comma == std::string_view::npos)
      break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

/// Returns whether a header name or value contains CR or LF, which would split the message it is written into.
inline bool has_line_break(std::string_view text) noexcept {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

/// Returns `text` as the inside of a JSON string literal.
inline std::string json_escape(std::string_view text) {
  static constexpr char hex_digits[] = "0123456789abcdef";
  std::string result;
  result.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '"':
        result += "\\\"";
        break;
      case '\\':
        result += "\\\\";
        break;
      case '\n':
        result += "\\n";
        break;
      case '\r':
        result += "\\r";
        break;
      case '\t':
        result += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          result += "\\u00";
          result += hex_digits[(c >> 4) & 0x0f];
          result += hex_digits[c & 0x0f];
        } else {
          result += c;
        }
    }
  }
  return result;
}

/// Returns the project's error body: {"error": message, "field": field}.
inline std::string json_error(std::string_view message, std::string_view field) {
  return R"({"error":")" + json_escape(message) + R"(","field":")" + json_escape(field) + R"("})";
}

/// Returns "host:port", with brackets around an IPv6 address.
inline std::string format_host_port(std::string_view host, std::uint16_t port) {
  std::string result;
  if (host.find(':') != std::string_view::npos) {
    result += '[';
    result += host;
    result += ']';
  } else {
    result += host;
  }
  result += ':';
  result += std::to_string(port);
  return result;
}

} // namespace feedrouter

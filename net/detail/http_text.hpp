#pragma once

// Private to net/: small text helpers shared by the HTTP server and client. No Asio, no Beast.
// The general ones (case, tokens, host:port) are in core/text.hpp, included here for both.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/text.hpp"

namespace feedrouter {

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

} // namespace feedrouter

#include "core/text.hpp"

#include <algorithm>

namespace feedrouter {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

constexpr std::string_view ows = " \t";

} // namespace

std::string ascii_lowercase(std::string_view text) {
  std::string result{text};
  std::transform(result.begin(), result.end(), result.begin(), ascii_lower);
  return result;
}

bool iequals(std::string_view x, std::string_view y) noexcept {
  return x.size() == y.size()
         && std::equal(x.begin(), x.end(), y.begin(), [](char a, char b) { return ascii_lower(a) == ascii_lower(b); });
}

bool istarts_with(std::string_view text, std::string_view prefix) noexcept {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

std::string_view trim_ows(std::string_view text) noexcept {
  const auto first = text.find_first_not_of(ows);
  if (first == std::string_view::npos)
    return {};
  return text.substr(first, text.find_last_not_of(ows) - first + 1);
}

bool has_token(std::string_view value, std::string_view token) noexcept {
  while (true) {
    auto comma = value.find(',');
    if (iequals(trim_ows(value.substr(0, comma)), token))
      return true;
    if (comma == std::string_view::npos)
      return false;
    value.remove_prefix(comma + 1);
  }
}

bool has_line_break(std::string_view text) noexcept {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

void append_hex(std::string& out, std::string_view bytes) {
  out.reserve(out.size() + 2 * bytes.size());
  for (char c : bytes) {
    auto u = static_cast<unsigned char>(c);
    out += hex_digits[u >> 4];
    out += hex_digits[u & 0x0f];
  }
}

std::string to_hex(std::string_view bytes) {
  std::string out;
  append_hex(out, bytes);
  return out;
}

void append_hex_u64(std::string& out, std::uint64_t value) {
  for (int shift = 60; shift >= 0; shift -= 4)
    out += hex_digits[(value >> shift) & 0xf];
}

std::optional<std::uint64_t> parse_hex_u64(std::string_view digits) noexcept {
  constexpr std::size_t max_digits = 16;
  if (digits.empty() || digits.size() > max_digits)
    return std::nullopt;
  std::uint64_t value = 0;
  for (char c : digits) {
    std::uint64_t nibble = 0;
    if (c >= '0' && c <= '9')
      nibble = static_cast<std::uint64_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      nibble = static_cast<std::uint64_t>(c - 'a' + 10);
    else
      return std::nullopt;
    value = (value << 4) | nibble;
  }
  return value;
}

std::string format_host_port(std::string_view host, std::uint16_t port) {
  std::string result;
  result.reserve(host.size() + 8);
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

bool is_transport_header(std::string_view name) noexcept {
  constexpr std::string_view owned[] = {"Host",    "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive",
                                        "TE",      "Trailer",        "Upgrade",           "Expect"};
  return istarts_with(name, "Proxy-")
         || std::any_of(std::begin(owned), std::end(owned), [&](std::string_view x) { return iequals(name, x); });
}

} // namespace feedrouter

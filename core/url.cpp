#include "core/url.hpp"
#include "core/text.hpp"

#include <algorithm>

namespace feedrouter {

namespace {

constexpr std::uint16_t http_default_port = 80;
constexpr std::uint16_t https_default_port = 443;
constexpr unsigned max_port = 65535;

bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

bool is_hex(char c) noexcept {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/// Returns whether `c` is an RFC 3986 unreserved character.
bool is_unreserved(char c) noexcept {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int hex_value(char c) noexcept {
  if (is_digit(c))
    return c - '0';
  return ascii_lower(c) - 'a' + 10;
}

/// Accepts the host names and IPv4 addresses a client can resolve: letters, digits, '-', '.', '_'.
bool is_valid_reg_name(std::string_view host) noexcept {
  return std::all_of(host.begin(), host.end(),
                     [](char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_'; });
}

/// Accepts the characters of an IPv6 address (an IPv4 tail included); the resolver checks the rest.
bool is_valid_ipv6_chars(std::string_view host) noexcept {
  return !host.empty()
         && std::all_of(host.begin(), host.end(), [](char c) { return is_hex(c) || c == ':' || c == '.'; });
}

} // namespace

std::string url::origin() const {
  std::string result;
  result.reserve(scheme.size() + host.size() + 16);
  result += scheme;
  result += "://";
  result += format_host_port(host, port);
  return result;
}

outcome<url> parse_url(std::string_view text, std::string_view field) {
  return parse_url(text, field, {{"http", http_default_port}, {"https", https_default_port}});
}

outcome<url> parse_url(std::string_view text, std::string_view field, const std::vector<url_scheme>& schemes) {
  auto fail = [&](std::string message) {
    return field_error{std::string{field}, std::move(message)};
  };
  // "http or https", as the messages name the schemes accepted.
  std::string names;
  for (const auto& scheme : schemes)
    names += (names.empty() ? "" : " or ") + std::string{scheme.name};
  if (text.empty())
    return fail("must be an " + names + " URL");
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f)
      return fail("must not contain whitespace or control characters");
    if (u > 0x7f)
      return fail("must be ASCII; percent-encode other characters");
  }
  if (text.find('#') != std::string_view::npos)
    return fail("must not contain a fragment ('#')");
  // -- scheme --
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos)
    return fail("must be an absolute " + names + " URL");
  url result;
  result.scheme = ascii_lowercase(text.substr(0, scheme_end));
  auto known = std::find_if(schemes.begin(), schemes.end(),
                            [&](const url_scheme& scheme) { return scheme.name == result.scheme; });
  if (known == schemes.end())
    return fail("must use the " + names + " scheme");
  result.port = known->default_port;
  // -- authority --
  auto rest = text.substr(scheme_end + 3);
  auto authority_end = std::min(rest.find('/'), rest.find('?'));
  auto authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos)
    return fail("must not contain user info (user:password@)");
  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return fail("has an IPv6 address without closing ']'");
    host = authority.substr(1, close - 1);
    if (!is_valid_ipv6_chars(host))
      return fail("has an invalid IPv6 address");
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return fail("has unexpected characters after the IPv6 address");
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
      if (port_text.find(':') != std::string_view::npos)
        return fail("must put an IPv6 address in brackets");
    }
    if (!is_valid_reg_name(host))
      return fail("has an invalid host name");
  }
  if (host.empty())
    return fail("must name a host");
  result.host = ascii_lowercase(host);
  if (has_port) {
    unsigned port = 0;
    bool valid = !port_text.empty() && port_text.size() <= 5
                 && std::all_of(port_text.begin(), port_text.end(), is_digit);
    if (valid) {
      for (char c : port_text)
        port = port * 10 + static_cast<unsigned>(c - '0');
      valid = port >= 1 && port <= max_port;
    }
    if (!valid)
      return fail("must have a port from 1 to 65535");
    result.port = static_cast<std::uint16_t>(port);
  }
  // -- target --
  auto target = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (target.empty())
    result.target = "/";
  else if (target.front() == '?')
    result.target = "/" + std::string{target};
  else
    result.target = std::string{target};
  return result;
}

std::string percent_encode(std::string_view text) {
  static constexpr char hex_digits[] = "0123456789ABCDEF";
  std::string result;
  result.reserve(text.size());
  for (char c : text) {
    if (is_unreserved(c)) {
      result += c;
    } else {
      auto u = static_cast<unsigned char>(c);
      result += '%';
      result += hex_digits[u >> 4];
      result += hex_digits[u & 0x0f];
    }
  }
  return result;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string result;
  result.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      result += text[i];
      continue;
    }
    if (i + 2 >= text.size())
      return std::nullopt;
    if (!is_hex(text[i + 1]) || !is_hex(text[i + 2]))
      return std::nullopt;
    result += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
    i += 2;
  }
  return result;
}

} // namespace feedrouter

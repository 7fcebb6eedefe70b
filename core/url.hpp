#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/outcome.hpp"

namespace feedrouter {

/// An absolute URL split into the parts a client connects with: http or https, or a broker's (mqtt, mqtts).
struct url {
  std::string scheme; ///< "http" or "https" (or a scheme parse_url was given), lower case
  std::string host;   ///< host name or address, without brackets for IPv6
  std::uint16_t port = 0; ///< explicit port, or 80 / 443 by scheme
  std::string target; ///< path and query, at least "/"

  /// Returns "scheme://host:port", the key of a connection pool.
  std::string origin() const;
};

/// Parses an absolute http(s) URL; user info and fragments are rejected. Errors name the field `field`.
outcome<url> parse_url(std::string_view text, std::string_view field);

/// A scheme a URL may have, and the port it stands for when the URL names none.
struct url_scheme {
  std::string_view name; ///< lower case
  std::uint16_t default_port;
};

/// Parses an absolute URL of one of `schemes` (e.g. mqtt and mqtts for a broker) by the same rules as parse_url.
outcome<url> parse_url(std::string_view text, std::string_view field, const std::vector<url_scheme>& schemes);

/// Returns `text` with every byte outside RFC 3986 unreserved characters percent-encoded (for one path segment).
std::string percent_encode(std::string_view text);

/// Decodes the %XX escapes of one path segment; returns nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text);

} // namespace feedrouter

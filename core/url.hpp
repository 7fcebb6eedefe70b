#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/outcome.hpp"

namespace feedrouter {

/// An absolute http or https URL split into the parts a client connects with.
struct url {
  std::string scheme; ///< "http" or "https", lower case
  std::string host;   ///< host name or address, without brackets for IPv6
  std::uint16_t port = 0; ///< explicit port, or 80 / 443 by scheme
  std::string target; ///< path and query, at least "/"

  /// Returns "scheme://host:port", the key of a connection pool.
  std::string origin() const;
};

/// Parses an absolute http(s) URL; user info and fragments are rejected. Errors name the field `field`.
outcome<url> parse_url(std::string_view text, std::string_view field);

/// Returns `text` with every byte outside RFC 3986 unreserved characters percent-encoded (for one path segment).
std::string percent_encode(std::string_view text);

/// Decodes the %XX escapes of one path segment; returns nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text);

} // namespace feedrouter

#pragma once

// OpenWhisk authKeys ("uuid:key") and the HTTP Basic credentials that carry them.

#include <optional>
#include <string>
#include <string_view>

namespace feedrouter {

/// Returns whether `key` looks like an OpenWhisk authKey: "uuid:key", both parts non-empty printable ASCII.
bool is_valid_auth_key(std::string_view key);

/// Returns the authKey in an "Authorization: Basic base64(uuid:key)" header, or nullopt. The scheme is matched
/// case-insensitively and may be followed by any run of spaces and tabs.
std::optional<std::string> parse_basic_authorization(std::string_view header);

/// Returns the Authorization header value for `auth_key`: "Basic base64(uuid:key)".
std::string basic_authorization(std::string_view auth_key);

} // namespace feedrouter

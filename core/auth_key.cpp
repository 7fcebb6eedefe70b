#include "core/auth_key.hpp"

#include "core/crypto.hpp"
#include "core/text.hpp"

namespace feedrouter {

bool is_valid_auth_key(std::string_view key) {
  auto colon = key.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == key.size())
    return false;
  for (char c : key)
    if (c <= ' ' || c > '~')
      return false;
  return true;
}

std::optional<std::string> parse_basic_authorization(std::string_view header) {
  // credentials = auth-scheme [ 1*SP token68 ] (RFC 9110 section 11.4): any run of spaces separates the scheme from
  // the credentials, and clients that write a tab are read the same way.
  constexpr std::string_view scheme = "Basic";
  if (!istarts_with(header, scheme))
    return std::nullopt;
  auto rest = header.substr(scheme.size());
  if (rest.empty() || (rest.front() != ' ' && rest.front() != '\t'))
    return std::nullopt;
  auto key = base64_decode(trim_ows(rest));
  if (!key || !is_valid_auth_key(*key))
    return std::nullopt;
  return key;
}

std::string basic_authorization(std::string_view auth_key) {
  return "Basic " + base64_encode(auth_key);
}

} // namespace feedrouter

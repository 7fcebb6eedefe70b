#include "app/list_cursor.hpp"

#include <algorithm>

#include "core/crypto.hpp"

namespace feedrouter {

namespace {

/// A cursor holds two names of at most 256 characters each: anything longer is not one.
constexpr std::size_t max_cursor_length = 1024;

/// Returns `text` in base64url without padding: URL-safe, so that it goes into a query string as it is.
std::string base64url(std::string_view text) {
  auto out = base64_encode(text);
  std::replace(out.begin(), out.end(), '+', '-');
  std::replace(out.begin(), out.end(), '/', '_');
  out.erase(std::find(out.begin(), out.end(), '='), out.end());
  return out;
}

/// Returns what base64url() encoded, or nullopt when `cursor` is not such a text of a cursor's length.
std::optional<std::string> from_base64url(std::string_view cursor) {
  if (cursor.empty() || cursor.size() > max_cursor_length)
    return std::nullopt;
  std::string text{cursor};
  if (text.find_first_of("+/=") != std::string::npos)
    return std::nullopt;
  std::replace(text.begin(), text.end(), '-', '+');
  std::replace(text.begin(), text.end(), '_', '/');
  text.append((4 - text.size() % 4) % 4, '=');
  return base64_decode(text);
}

} // namespace

std::string encode_list_cursor(const trigger_ref& last) {
  return base64url(last.key());
}

std::optional<trigger_ref> decode_list_cursor(std::string_view cursor) {
  auto key = from_base64url(cursor);
  if (!key)
    return std::nullopt;
  auto slash = key->find('/');
  if (slash == std::string::npos)
    return std::nullopt;
  trigger_ref last{key->substr(0, slash), key->substr(slash + 1)};
  if (!is_valid_entity_name(last.ns) || !is_valid_entity_name(last.name))
    return std::nullopt;
  return last;
}

std::string encode_namespace_cursor(std::string_view last) {
  return base64url(last);
}

std::optional<std::string> decode_namespace_cursor(std::string_view cursor) {
  auto ns = from_base64url(cursor);
  if (!ns || !is_valid_entity_name(*ns))
    return std::nullopt;
  return ns;
}

} // namespace feedrouter

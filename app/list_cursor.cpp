#include "app/list_cursor.hpp"

#include <algorithm>

#include "core/crypto.hpp"

namespace feedrouter {

namespace {

/// A cursor holds two names of at most 256 characters each: anything longer is not one.
constexpr std::size_t max_cursor_length = 1024;

} // namespace

std::string encode_list_cursor(const trigger_ref& last) {
  auto text = base64_encode(last.key());
  // URL-safe, so that it goes into a query string as it is.
  std::replace(text.begin(), text.end(), '+', '-');
  std::replace(text.begin(), text.end(), '/', '_');
  text.erase(std::find(text.begin(), text.end(), '='), text.end());
  return text;
}

std::optional<trigger_ref> decode_list_cursor(std::string_view cursor) {
  if (cursor.empty() || cursor.size() > max_cursor_length)
    return std::nullopt;
  std::string text{cursor};
  if (text.find_first_of("+/=") != std::string::npos)
    return std::nullopt;
  std::replace(text.begin(), text.end(), '-', '+');
  std::replace(text.begin(), text.end(), '_', '/');
  text.append((4 - text.size() % 4) % 4, '=');
  auto key = base64_decode(text);
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

} // namespace feedrouter

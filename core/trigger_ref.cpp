#include "core/trigger_ref.hpp"

#include <cctype>

namespace feedrouter {

namespace {

constexpr std::size_t entity_name_limit = 256;

bool is_name_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || c == '@' || c == '.' || c == '-' || c == ' ';
}

} // namespace

bool is_valid_entity_name(std::string_view text) {
  if (text.empty() || text.size() > entity_name_limit)
    return false;
  auto first = static_cast<unsigned char>(text.front());
  if (!std::isalnum(first) && text.front() != '_')
    return false;
  if (text.back() == ' ')
    return false;
  for (char c : text)
    if (!is_name_char(c))
      return false;
  return true;
}

outcome<trigger_ref> parse_trigger_name(std::string_view text) {
  if (!text.empty() && text.front() == '/')
    text.remove_prefix(1);
  auto slash = text.find('/');
  if (slash == std::string_view::npos)
    return field_error{"triggerName", "must be a fully qualified name \"/namespace/trigger\""};
  auto ns = text.substr(0, slash);
  auto name = text.substr(slash + 1);
  // "/ns/package/trigger" is not a trigger: triggers live directly in a namespace.
  if (!is_valid_entity_name(ns) || !is_valid_entity_name(name))
    return field_error{"triggerName", "must be \"/namespace/trigger\" with valid OpenWhisk names"};
  return trigger_ref{std::string{ns}, std::string{name}};
}

outcome<trigger_ref> make_trigger_ref(std::string_view ns, std::string_view name) {
  if (!is_valid_entity_name(ns))
    return field_error{"namespace", "is not a valid OpenWhisk namespace name"};
  if (!is_valid_entity_name(name))
    return field_error{"trigger", "is not a valid OpenWhisk trigger name"};
  return trigger_ref{std::string{ns}, std::string{name}};
}

} // namespace feedrouter

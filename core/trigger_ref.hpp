#pragma once

#include <string>
#include <string_view>

#include "core/outcome.hpp"

namespace feedrouter {

/// Names one OpenWhisk trigger: its namespace and its name.
struct trigger_ref {
  std::string ns;
  std::string name;

  /// Returns "ns/name", the registration's key in the registry and the store.
  std::string key() const {
    return ns + '/' + name;
  }

  /// Returns "/ns/name", the fully qualified name OpenWhisk uses.
  std::string qualified() const {
    return '/' + ns + '/' + name;
  }

  friend bool operator==(const trigger_ref& x, const trigger_ref& y) {
    return x.ns == y.ns && x.name == y.name;
  }
};

/// Returns whether `text` is a valid OpenWhisk entity or namespace name: 1 to 256 characters of letters, digits,
/// `_`, `@`, `.`, `-` and inner spaces, starting with a letter, digit or `_`.
bool is_valid_entity_name(std::string_view text);

/// Parses a fully qualified trigger name "/ns/name" (the leading slash may be missing); `_` stands for the caller's
/// default namespace and is kept as is. Errors name the field "triggerName".
outcome<trigger_ref> parse_trigger_name(std::string_view text);

/// Builds a reference from route segments; errors name the field "namespace" or "trigger".
outcome<trigger_ref> make_trigger_ref(std::string_view ns, std::string_view name);

} // namespace feedrouter

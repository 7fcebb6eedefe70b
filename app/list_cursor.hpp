#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/trigger_ref.hpp"

namespace feedrouter {

/// Returns the opaque cursor of a list page that ends with `last`: the next page starts after it (docs/api.md,
/// "Listing registrations"). Base64url of "ns/name", which the caller is not meant to read.
std::string encode_list_cursor(const trigger_ref& last);

/// Returns the registration a cursor from encode_list_cursor() names, or nullopt when `cursor` is not one.
std::optional<trigger_ref> decode_list_cursor(std::string_view cursor);

/// Returns the opaque cursor of a page of namespaces (the admin's count of registrations per namespace) that ends
/// with namespace `last`.
std::string encode_namespace_cursor(std::string_view last);

/// Returns the namespace a cursor from encode_namespace_cursor() names, or nullopt when `cursor` is not one.
std::optional<std::string> decode_namespace_cursor(std::string_view cursor);

} // namespace feedrouter

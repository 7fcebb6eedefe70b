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

} // namespace feedrouter

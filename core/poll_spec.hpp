#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json.hpp"
#include "core/json_pointer.hpp"
#include "core/outcome.hpp"
#include "core/param_reader.hpp"
#include "core/url.hpp"

namespace feedrouter {

/// The settings of a `poll` registration, validated.
struct poll_spec {
  std::string url_text; ///< `url` as the owner gave it: what the checkpoint's fingerprint is made of
  url target;           ///< `url`, parsed
  /// `headers`: sent with every poll, in the order given (e.g. Authorization, Accept).
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::seconds interval{60};  ///< `intervalSeconds`: from the end of one poll to the start of the next
  std::chrono::seconds timeout{10};   ///< `timeoutSeconds`: for the whole request, connect included
  /// `itemsPointer`: where the array of items is; nullopt when the whole document is one item ("" is the document
  /// itself as the array).
  std::optional<json_pointer> items_pointer;
  /// `idPointer`: what tells items apart, inside each item; nullopt when an item's id is the hash of its JSON.
  std::optional<json_pointer> id_pointer;
  /// `failuresBeforeDisable`: polls in a row answered 401, 403 or 404 (with no successful poll in between) after
  /// which the registration is disabled. 5xx answers and network errors neither count nor break the row.
  int failures_before_disable = 3;
};

/// Ids a poll remembers at most; the oldest are forgotten first, but never one the last document listed, so a
/// document may list up to this many items. Bounds the checkpoint at 16 hex digits per id (about 160 KB).
inline constexpr std::size_t max_seen_ids = 10'000;

// -- the integer parameters and their ranges (docs/poll-feed.md) --
inline constexpr int_param poll_interval_param{"intervalSeconds", 1, 24 * 3600};
inline constexpr int_param poll_timeout_param{"timeoutSeconds", 1, 300};
inline constexpr int_param poll_failures_param{"failuresBeforeDisable", 1, 100};
inline constexpr std::array<int_param, 3> poll_int_params = {poll_interval_param, poll_timeout_param,
                                                             poll_failures_param};

/// Validates the poll parameters (`url`, `headers`, `intervalSeconds`, `timeoutSeconds`, `itemsPointer`,
/// `idPointer`, `failuresBeforeDisable`); every failure names the parameter.
outcome<poll_spec> parse_poll_spec(const json_members& params);

} // namespace feedrouter

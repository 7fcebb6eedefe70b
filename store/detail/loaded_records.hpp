#pragma once

// Turning stored rows into registration records, the same for every store: states this build does not know, the
// order of load_all(), joining events to their registrations, and opening sealed secrets.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/registration.hpp"
#include "core/secrets_key.hpp"

namespace feedrouter::detail {

/// Disables a loaded registration on the provider's behalf, saying why, so that it neither runs nor stops the
/// start-up.
void disable_loaded(registration_record& rec, std::string why);

/// Sets a loaded registration's state and reason from their stored text. A state or reason kind this build does not
/// know (a corrupted or hand-edited row) yields a registration disabled by the provider.
void read_state(registration_record& rec, std::string_view state, std::string_view kind, int status_code,
                std::string message);

/// Sorts loaded registrations by namespace, then name, comparing bytes (SQLite's BINARY, PostgreSQL's "C").
void sort_by_trigger(std::vector<registration_record>& records);

/// Opens the sealed params_json and auth_key of loaded registrations in place. Those that do not open (an altered or
/// damaged row) are disabled with both cleared; their sealed values stay in the store untouched. Logs one line
/// naming `store_name` when any did not open; returns how many.
std::size_t open_loaded_secrets(std::vector<registration_record>& records, const secrets_key& key,
                                const std::string& store_name);

/// Finds loaded registrations by the (namespace, name) columns of other tables' rows.
///
/// Keys are views into the records' own trigger names, which must neither move nor change while the index is used.
class record_index {
public:
  explicit record_index(std::vector<registration_record>& records);

  /// Returns the registration named `ns`/`name`, or nullptr for rows of no registration.
  registration_record* find(std::string_view ns, std::string_view name);

private:
  using key = std::pair<std::string_view, std::string_view>;

  struct key_hash {
    std::size_t operator()(const key& x) const noexcept {
      std::hash<std::string_view> hash;
      return hash(x.first) * 31 + hash(x.second);
    }
  };

  std::unordered_map<key, registration_record*, key_hash> by_key_;
};

} // namespace feedrouter::detail

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/outcome.hpp"
#include "core/time_format.hpp"

namespace feedrouter {

// Typed readers of one feed parameter. Each returns nullopt when the parameter is absent and a field_error naming it
// when it has the wrong type or lies outside its range. Values the wsk CLI sends as strings ("true", "5") are
// accepted (docs/architecture.md section 9).

/// An integer parameter: its name and the range every value must lie in. Every integer a tenant gives has one.
struct int_param {
  std::string_view name;
  std::int64_t min;
  std::int64_t max;
};

outcome<std::optional<std::string>> read_string_param(const json_members& params, std::string_view field);

outcome<std::optional<bool>> read_bool_param(const json_members& params, std::string_view field);

/// Returns the integer the raw JSON value `raw` holds in a form OpenWhisk's own packages accept as well: a JSON number
/// with an integral value (5, 5.0, 1e3), or a string of decimal digits with an optional leading '-' ("5", "-1"), as a
/// client may pass a number. Anything else is nullopt: blanks, '+', hexadecimal, fractions and exponents inside a
/// string, non-integral numbers, and numbers beyond 64 bits.
std::optional<std::int64_t> read_lenient_int(std::string_view raw);

/// Reads integer parameter `param.name` (in a form read_lenient_int accepts), which must lie in
/// [param.min, param.max].
outcome<std::optional<std::int64_t>> read_int_param(const json_members& params, const int_param& param);

/// Reads an ISO-8601 date-time string or a number of milliseconds since the epoch; either must lie in
/// [earliest_time, latest_time].
outcome<std::optional<sys_ms>> read_date_param(const json_members& params, std::string_view field);

/// Returns `params` with the value of each member named in `names` that read_lenient_int reads rewritten as a plain
/// JSON integer ("5" and 5.0 become 5), so that a registration is stored and shown normalized. Call it once the
/// parameters are valid: other members and other values stay as given.
json_members normalize_int_params(json_members params, const std::vector<std::string_view>& names);

/// Reads an array of strings (a JSON array, or a string holding one, or a comma-separated string).
outcome<std::optional<std::vector<std::string>>> read_string_list_param(const json_members& params,
                                                                        std::string_view field);

} // namespace feedrouter

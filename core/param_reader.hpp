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
// when it has the wrong type. Values the wsk CLI sends as strings ("true", "5") are accepted.

outcome<std::optional<std::string>> read_string_param(const json_members& params, std::string_view field);

outcome<std::optional<bool>> read_bool_param(const json_members& params, std::string_view field);

outcome<std::optional<std::int64_t>> read_int_param(const json_members& params, std::string_view field);

/// Reads an integer that must lie in [min, max].
outcome<std::optional<std::int64_t>> read_int_param(const json_members& params, std::string_view field,
                                                    std::int64_t min, std::int64_t max);

/// Reads an ISO-8601 date-time string or milliseconds since the epoch.
outcome<std::optional<sys_ms>> read_date_param(const json_members& params, std::string_view field);

/// Reads an array of strings (a JSON array, or a string holding one, or a comma-separated string).
outcome<std::optional<std::vector<std::string>>> read_string_list_param(const json_members& params,
                                                                        std::string_view field);

} // namespace feedrouter

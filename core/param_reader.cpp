#include "core/param_reader.hpp"

#include <stdexcept>

namespace feedrouter {

outcome<std::optional<std::string>> read_string_param(const json_members& params, std::string_view field) {
  const auto* raw = find_member(params, field);
  if (raw == nullptr)
    return std::optional<std::string>{};
  if (auto text = json_as_string(*raw))
    return std::optional<std::string>{std::move(*text)};
  return field_error{std::string{field}, "must be a string"};
}

outcome<std::optional<bool>> read_bool_param(const json_members& params, std::string_view field) {
  const auto* raw = find_member(params, field);
  if (raw == nullptr)
    return std::optional<bool>{};
  if (auto flag = json_as_bool(*raw))
    return std::optional<bool>{*flag};
  if (auto text = json_as_string(*raw); text && (*text == "true" || *text == "false"))
    return std::optional<bool>{*text == "true"};
  return field_error{std::string{field}, "must be true or false"};
}

outcome<std::optional<std::int64_t>> read_int_param(const json_members& params, std::string_view field) {
  const auto* raw = find_member(params, field);
  if (raw == nullptr)
    return std::optional<std::int64_t>{};
  if (auto number = json_as_int(*raw))
    return std::optional<std::int64_t>{*number};
  if (auto text = json_as_string(*raw)) {
    try {
      std::size_t used = 0;
      auto number = std::stoll(*text, &used);
      if (used == text->size())
        return std::optional<std::int64_t>{number};
    } catch (const std::exception&) {
      // falls through to the error below
    }
  }
  return field_error{std::string{field}, "must be an integer"};
}

outcome<std::optional<std::int64_t>> read_int_param(const json_members& params, std::string_view field,
                                                    std::int64_t min, std::int64_t max) {
  auto number = read_int_param(params, field);
  if (!number || !*number)
    return number;
  if (**number < min || **number > max)
    return field_error{std::string{field},
                       "must be an integer from " + std::to_string(min) + " to " + std::to_string(max)};
  return number;
}

outcome<std::optional<sys_ms>> read_date_param(const json_members& params, std::string_view field) {
  const auto* raw = find_member(params, field);
  if (raw == nullptr)
    return std::optional<sys_ms>{};
  // Milliseconds name the same instants as the text: one that could not be shown as a date is refused.
  if (auto millis = json_as_int(*raw); millis && in_iso8601_range(sys_ms{std::chrono::milliseconds{*millis}}))
    return std::optional<sys_ms>{sys_ms{std::chrono::milliseconds{*millis}}};
  if (auto text = json_as_string(*raw))
    if (auto parsed = parse_iso8601(*text))
      return std::optional<sys_ms>{*parsed};
  return field_error{std::string{field},
                     "must be an ISO-8601 date-time such as \"2026-12-24T18:00:00Z\" or milliseconds since the epoch"};
}

outcome<std::optional<std::vector<std::string>>> read_string_list_param(const json_members& params,
                                                                        std::string_view field) {
  const auto* raw = find_member(params, field);
  if (raw == nullptr)
    return std::optional<std::vector<std::string>>{};
  if (auto list = json_as_string_array(*raw))
    return std::optional<std::vector<std::string>>{std::move(*list)};
  if (auto text = json_as_string(*raw)) {
    if (auto list = json_as_string_array(*text))
      return std::optional<std::vector<std::string>>{std::move(*list)};
    std::vector<std::string> items;
    std::string_view rest = *text;
    while (!rest.empty()) {
      auto comma = std::min(rest.find(','), rest.size());
      auto item = rest.substr(0, comma);
      while (!item.empty() && item.front() == ' ')
        item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ')
        item.remove_suffix(1);
      if (!item.empty())
        items.emplace_back(item);
      rest.remove_prefix(std::min(comma + 1, rest.size()));
    }
    return std::optional<std::vector<std::string>>{std::move(items)};
  }
  return field_error{std::string{field}, "must be an array of strings"};
}

} // namespace feedrouter

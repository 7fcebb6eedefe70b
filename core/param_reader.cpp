#include "core/param_reader.hpp"

#include <algorithm>
#include <charconv>
#include <system_error>

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

std::optional<std::int64_t> read_lenient_int(std::string_view raw) {
  if (auto number = json_as_int(raw))
    return number;
  auto text = json_as_string(raw);
  if (!text)
    return std::nullopt;
  std::string_view digits = *text;
  if (!digits.empty() && digits.front() == '-')
    digits.remove_prefix(1);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::int64_t value = 0;
  // from_chars reads exactly the text checked above (it takes no blanks or '+'); a value beyond 64 bits fails.
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc{} || end != text->data() + text->size())
    return std::nullopt;
  return value;
}

outcome<std::optional<std::int64_t>> read_int_param(const json_members& params, const int_param& param) {
  const auto* raw = find_member(params, param.name);
  if (raw == nullptr)
    return std::optional<std::int64_t>{};
  auto number = read_lenient_int(*raw);
  if (!number || *number < param.min || *number > param.max)
    return field_error{std::string{param.name}, "must be an integer from " + std::to_string(param.min) + " to "
                                                  + std::to_string(param.max)};
  return std::optional<std::int64_t>{*number};
}

outcome<std::optional<sys_ms>> read_date_param(const json_members& params, std::string_view field) {
  const auto* raw = find_member(params, field);
  if (raw == nullptr)
    return std::optional<sys_ms>{};
  // A date as a number is milliseconds, as JavaScript's Date takes it; OpenWhisk's alarms refuse one in a string.
  if (auto millis = json_as_int(*raw)) {
    const sys_ms t{std::chrono::milliseconds{*millis}};
    if (in_time_range(t))
      return std::optional<sys_ms>{t};
  } else if (auto text = json_as_string(*raw)) {
    if (auto parsed = parse_iso8601(*text))
      return std::optional<sys_ms>{*parsed};
  }
  return field_error{std::string{field}, "must be an ISO-8601 date-time such as \"2026-12-24T18:00:00Z\" or "
                                         "milliseconds since the epoch, from " + format_iso8601(earliest_time)
                                           + " to " + format_iso8601(latest_time)};
}

json_members normalize_int_params(json_members params, const std::vector<std::string_view>& names) {
  for (auto& [name, raw] : params) {
    if (std::find(names.begin(), names.end(), name) == names.end())
      continue;
    if (auto number = read_lenient_int(raw))
      raw = std::to_string(*number);
  }
  return params;
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

#include "core/poll_spec.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "core/param_reader.hpp"
#include "core/text.hpp"

namespace feedrouter {

namespace {

constexpr std::int64_t default_timeout_seconds = 10;
constexpr std::int64_t default_failures_before_disable = 3;
constexpr std::size_t max_headers = 50;
constexpr std::size_t max_header_value_length = 8192;

/// Headers the poll itself sets; a user's value would break change detection.
constexpr std::array<std::string_view, 2> poll_headers = {"If-None-Match", "If-Modified-Since"};

/// Returns whether `c` may appear in a header name (an RFC 9110 token character).
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  return std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
}

bool is_header_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), is_token_char);
}

/// Returns whether `value` can be sent as is: a control character (CR and LF above all) would split the request.
bool is_header_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\t') || byte == 0x7f;
  });
}

outcome<std::vector<std::pair<std::string, std::string>>> read_headers(const json_members& params) {
  std::vector<std::pair<std::string, std::string>> headers;
  const auto* raw = find_member(params, "headers");
  if (raw == nullptr)
    return headers;
  // The wsk CLI may send an object parameter as a string holding its JSON.
  std::string object_text = *raw;
  if (auto text = json_as_string(*raw))
    object_text = std::move(*text);
  if (!json_is_object(object_text))
    return field_error{"headers", "must be an object of header names to string values"};
  auto members = parse_json_object(object_text, "headers");
  if (!members)
    return field_error{"headers", members.error().message};
  if (members->size() > max_headers)
    return field_error{"headers", "may hold at most " + std::to_string(max_headers) + " headers"};
  for (auto& [name, value_json] : *members) {
    if (!is_header_name(name))
      return field_error{"headers", "\"" + name + "\" is not an HTTP header name"};
    // Host would pick another site behind a shared front end than the one `url` names and the egress policy
    // checked; framing and hop-by-hop headers would split or redirect the request.
    if (iequals(name, "Host"))
      return field_error{"headers", "\"" + name + "\" cannot be given: the host is the one url names"};
    if (is_transport_header(name))
      return field_error{"headers", "\"" + name + "\" is a framing or hop-by-hop header that the provider's HTTP "
                                    "client sets itself; it cannot be given"};
    for (auto reserved : poll_headers)
      if (iequals(name, reserved))
        return field_error{"headers", "\"" + name + "\" is set by the poll feed itself and cannot be given"};
    auto value = json_as_string(value_json);
    if (!value)
      return field_error{"headers", "the value of \"" + name + "\" must be a string"};
    if (value->size() > max_header_value_length || !is_header_value(*value))
      return field_error{"headers", "the value of \"" + name + "\" must be at most "
                                      + std::to_string(max_header_value_length)
                                      + " characters without line breaks or control characters"};
    headers.emplace_back(std::move(name), std::move(*value));
  }
  return headers;
}

outcome<std::optional<json_pointer>> read_pointer(const json_members& params, std::string_view field) {
  auto text = read_string_param(params, field);
  if (!text)
    return text.error();
  if (!*text)
    return std::optional<json_pointer>{};
  auto pointer = parse_json_pointer(**text, field);
  if (!pointer)
    return pointer.error();
  return std::optional<json_pointer>{std::move(*pointer)};
}

} // namespace

outcome<poll_spec> parse_poll_spec(const json_members& params) {
  poll_spec spec;
  auto text = read_string_param(params, "url");
  if (!text)
    return text.error();
  if (!*text)
    return field_error{"url", "is required: the http or https URL to poll"};
  auto target = parse_url(**text, "url");
  if (!target)
    return target.error();
  spec.url_text = std::move(**text);
  spec.target = std::move(*target);
  auto headers = read_headers(params);
  if (!headers)
    return headers.error();
  spec.headers = std::move(*headers);
  auto interval = read_int_param(params, poll_interval_param);
  if (!interval)
    return interval.error();
  if (!*interval)
    return field_error{"intervalSeconds", "is required: seconds between polls, from "
                                            + std::to_string(poll_interval_param.min) + " to "
                                            + std::to_string(poll_interval_param.max)};
  spec.interval = std::chrono::seconds{**interval};
  // A timeout longer than the interval is fine: the next poll starts an interval after the previous one ended.
  auto timeout = read_int_param(params, poll_timeout_param);
  if (!timeout)
    return timeout.error();
  spec.timeout = std::chrono::seconds{timeout->value_or(default_timeout_seconds)};
  auto items = read_pointer(params, "itemsPointer");
  if (!items)
    return items.error();
  spec.items_pointer = std::move(*items);
  auto id = read_pointer(params, "idPointer");
  if (!id)
    return id.error();
  spec.id_pointer = std::move(*id);
  auto failures = read_int_param(params, poll_failures_param);
  if (!failures)
    return failures.error();
  spec.failures_before_disable = static_cast<int>(failures->value_or(default_failures_before_disable));
  return spec;
}

} // namespace feedrouter

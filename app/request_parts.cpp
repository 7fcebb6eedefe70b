#include "app/request_parts.hpp"

#include <algorithm>

#include "app/routes.hpp"
#include "core/status_json.hpp"
#include "core/text.hpp"
#include "core/url.hpp"

namespace feedrouter {

namespace {

/// Digits a `limit` may have: more is out of range anyway, and std::stoul must not overflow.
constexpr std::size_t max_limit_digits = 7;

} // namespace

http_response error_response(int status, std::string_view message, std::string_view field) {
  return json_response(status, render_error(message, field));
}

http_response bad_field(const field_error& err) {
  return error_response(400, err.field + ": " + err.message, err.field);
}

http_response method_not_allowed(std::string_view allowed) {
  auto res = error_response(405, "method not allowed; use " + std::string{allowed}, "method");
  res.fields.emplace_back("Allow", std::string{allowed});
  return res;
}

std::optional<std::vector<std::string>> path_segments(std::string_view target) {
  target = target.substr(0, target.find('?'));
  if (!target.empty() && target.front() == '/')
    target.remove_prefix(1);
  std::vector<std::string> segments;
  while (!target.empty()) {
    auto end = std::min(target.find('/'), target.size());
    auto segment = percent_decode(target.substr(0, end));
    if (!segment)
      return std::nullopt;
    segments.push_back(std::move(*segment));
    target.remove_prefix(end);
    if (!target.empty()) {
      target.remove_prefix(1);
      if (target.empty())
        segments.emplace_back();
    }
  }
  return segments;
}

std::optional<http_response> check_content_type(const http_request& req) {
  auto type = req.field("Content-Type");
  if (type.empty())
    return std::nullopt;
  if (iequals(trim_ows(type.substr(0, type.find(';'))), "application/json"))
    return std::nullopt;
  return error_response(415, "the body must be JSON (Content-Type: application/json)", "Content-Type");
}

outcome<json_members> read_body(const http_request& req) {
  if (req.body.empty())
    return field_error{"body", "must be a JSON object"};
  return parse_json_object(req.body, "body");
}

outcome<std::optional<std::string>> string_member(const json_members& body, std::string_view name) {
  const auto* raw = find_member(body, name);
  if (raw == nullptr)
    return std::optional<std::string>{};
  auto text = json_as_string(*raw);
  if (!text)
    return field_error{std::string{name}, "must be a string"};
  return std::optional<std::string>{std::move(*text)};
}

outcome<std::optional<std::string>> query_param(std::string_view target, std::string_view name) {
  auto question = target.find('?');
  if (question == std::string_view::npos)
    return std::optional<std::string>{};
  auto query = target.substr(question + 1);
  std::optional<std::string> found;
  while (!query.empty()) {
    auto end = std::min(query.find('&'), query.size());
    auto pair = query.substr(0, end);
    query.remove_prefix(std::min(end + 1, query.size()));
    auto equals = pair.find('=');
    if (pair.substr(0, equals) != name)
      continue;
    auto value = percent_decode(equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1));
    if (!value)
      return field_error{std::string{name}, "has a malformed percent-escape"};
    found = std::move(*value);
  }
  return found;
}

outcome<std::size_t> read_limit(std::string_view target, std::size_t fallback, std::size_t max) {
  auto limit = query_param(target, "limit");
  if (!limit)
    return limit.error();
  if (!*limit)
    return fallback;
  const auto& text = **limit;
  auto digits =
    !text.empty() && text.size() <= max_limit_digits && text.find_first_not_of("0123456789") == std::string::npos;
  auto value = digits ? std::stoul(text) : 0;
  if (value < 1 || value > max)
    return field_error{"limit", "must be an integer from 1 to " + std::to_string(max)};
  return std::size_t{value};
}

} // namespace feedrouter

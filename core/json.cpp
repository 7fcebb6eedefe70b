#include "core/json.hpp"

#include <algorithm>
#include <cstdio>

#include <simdjson.h>

namespace feedrouter {

namespace {

// One DOM parser per thread: parsers are not thread-safe, and reusing one keeps its buffers allocated.
simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

simdjson::simdjson_result<simdjson::dom::element> parse_raw(std::string_view raw) {
  // An empty view may point nowhere (a default std::string_view); simdjson copies from it, and memcpy from a null
  // pointer is undefined even for zero bytes.
  if (raw.data() == nullptr)
    raw = std::string_view{""};
  return thread_parser().parse(raw.data(), raw.size());
}

} // namespace

outcome<json_members> parse_json_object(std::string_view text, std::string_view field) {
  auto doc = parse_raw(text);
  if (doc.error())
    return field_error{std::string{field},
                       std::string{"is not valid JSON: "} + simdjson::error_message(doc.error())};
  simdjson::dom::object obj;
  if (doc.value_unsafe().get_object().get(obj))
    return field_error{std::string{field}, "must be a JSON object"};
  json_members result;
  for (auto member : obj) {
    std::string name{member.key};
    auto duplicate = std::any_of(result.begin(), result.end(),
                                 [&](const auto& existing) { return existing.first == name; });
    if (duplicate)
      return field_error{name, "appears twice"};
    result.emplace_back(std::move(name), simdjson::minify(member.value));
  }
  return result;
}

std::string to_json_object(const json_members& members) {
  json_writer out;
  out.begin_object();
  for (const auto& [name, raw] : members)
    out.key(name).raw(raw);
  out.end_object();
  return out.take();
}

const std::string* find_member(const json_members& members, std::string_view name) {
  for (const auto& [key, raw] : members)
    if (key == name)
      return &raw;
  return nullptr;
}

json_members merge_members(json_members base, const json_members& changes) {
  for (const auto& change : changes) {
    auto same_name = [&](const auto& member) { return member.first == change.first; };
    if (auto i = std::find_if(base.begin(), base.end(), same_name); i != base.end())
      i->second = change.second;
    else
      base.push_back(change);
  }
  return base;
}

std::string merge_object_defaults(std::string_view object, std::string_view defaults) {
  auto own = parse_json_object(object, "object");
  auto extra = parse_json_object(defaults, "defaults");
  json_writer out;
  out.begin_object();
  if (own)
    for (const auto& [name, raw] : *own)
      out.key(name).raw(raw);
  if (extra)
    for (const auto& [name, raw] : *extra)
      if (!own || find_member(*own, name) == nullptr)
        out.key(name).raw(raw);
  out.end_object();
  return out.take();
}

json_members without_members(json_members members, const std::vector<std::string_view>& names) {
  auto listed = [&](const auto& member) {
    return std::find(names.begin(), names.end(), member.first) != names.end();
  };
  members.erase(std::remove_if(members.begin(), members.end(), listed), members.end());
  return members;
}

std::optional<std::string> json_as_string(std::string_view raw) {
  std::string_view text;
  if (auto doc = parse_raw(raw); doc.error() || doc.value_unsafe().get_string().get(text))
    return std::nullopt;
  return std::string{text};
}

std::optional<std::int64_t> json_as_int(std::string_view raw) {
  auto doc = parse_raw(raw);
  if (doc.error())
    return std::nullopt;
  auto element = doc.value_unsafe();
  if (std::int64_t number = 0; element.is_int64() && !element.get_int64().get(number))
    return number;
  // JavaScript callers send integral numbers as doubles (e.g. 5.0 or 1e3).
  if (double number = 0; element.is_double() && !element.get_double().get(number)) {
    constexpr double int64_bound = 9.2e18;
    if (number > -int64_bound && number < int64_bound
        && number == static_cast<double>(static_cast<std::int64_t>(number)))
      return static_cast<std::int64_t>(number);
  }
  return std::nullopt;
}

std::optional<bool> json_as_bool(std::string_view raw) {
  bool flag = false;
  if (auto doc = parse_raw(raw); doc.error() || doc.value_unsafe().get_bool().get(flag))
    return std::nullopt;
  return flag;
}

std::optional<std::vector<std::string>> json_as_string_array(std::string_view raw) {
  auto doc = parse_raw(raw);
  simdjson::dom::array array;
  if (doc.error() || doc.value_unsafe().get_array().get(array))
    return std::nullopt;
  std::vector<std::string> result;
  for (auto element : array) {
    std::string_view text;
    if (element.get_string().get(text))
      return std::nullopt;
    result.emplace_back(text);
  }
  return result;
}

std::optional<std::vector<std::string>> json_array_elements(std::string_view raw) {
  auto doc = parse_raw(raw);
  simdjson::dom::array array;
  if (doc.error() || doc.value_unsafe().get_array().get(array))
    return std::nullopt;
  std::vector<std::string> result;
  for (auto element : array)
    result.push_back(simdjson::minify(element));
  return result;
}

bool json_is_object(std::string_view raw) {
  auto doc = parse_raw(raw);
  return !doc.error() && doc.value_unsafe().is_object();
}

bool json_is_value(std::string_view text) {
  return !parse_raw(text).error();
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  // Bytes of invalid UTF-8 (a binary webhook body, say) are escaped one by one as Latin-1, so the output stays valid
  // JSON whatever came in.
  const bool utf8 = simdjson::validate_utf8(text.data(), text.size());
  out += '"';
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20 || (!utf8 && byte >= 0x80)) {
          out += "\\u00";
          out += hex[byte >> 4];
          out += hex[byte & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void json_writer::before_value() {
  if (need_comma_)
    out_ += ',';
  need_comma_ = true;
}

json_writer& json_writer::begin_object() {
  before_value();
  out_ += '{';
  need_comma_ = false;
  return *this;
}

json_writer& json_writer::end_object() {
  out_ += '}';
  need_comma_ = true;
  return *this;
}

json_writer& json_writer::begin_array() {
  before_value();
  out_ += '[';
  need_comma_ = false;
  return *this;
}

json_writer& json_writer::end_array() {
  out_ += ']';
  need_comma_ = true;
  return *this;
}

json_writer& json_writer::key(std::string_view name) {
  before_value();
  append_json_string(out_, name);
  out_ += ':';
  need_comma_ = false;
  return *this;
}

json_writer& json_writer::value(std::string_view text) {
  before_value();
  append_json_string(out_, text);
  return *this;
}

json_writer& json_writer::value(std::int64_t number) {
  before_value();
  out_ += std::to_string(number);
  return *this;
}

json_writer& json_writer::value(bool flag) {
  before_value();
  out_ += flag ? "true" : "false";
  return *this;
}

json_writer& json_writer::null() {
  before_value();
  out_ += "null";
  return *this;
}

json_writer& json_writer::raw(std::string_view json) {
  before_value();
  out_ += json;
  return *this;
}

} // namespace feedrouter

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/outcome.hpp"

namespace feedrouter {

/// An object's members as (name, raw JSON text) pairs in input order: how feed parameters are validated, merged on
/// UPDATE and stored without losing what the user wrote.
using json_members = std::vector<std::pair<std::string, std::string>>;

/// Parses `text` as one JSON object; a failure names `field` and says what is wrong.
outcome<json_members> parse_json_object(std::string_view text, std::string_view field);

/// Returns the JSON object text made of `members`.
std::string to_json_object(const json_members& members);

/// Returns the raw JSON of member `name`, or nullptr when absent.
const std::string* find_member(const json_members& members, std::string_view name);

/// Returns `base` with each member of `changes` replacing the one of the same name or appended.
json_members merge_members(json_members base, const json_members& changes);

/// Returns the JSON object `object` with each member of the JSON object `defaults` added that it does not have: how
/// `trigger_payload` is merged into an event's payload (the event's own members win). Malformed input is taken as {}.
std::string merge_object_defaults(std::string_view object, std::string_view defaults);

/// Returns `members` without the members named in `names`.
json_members without_members(json_members members, const std::vector<std::string_view>& names);

// -- reading raw JSON values -------------------------------------------------

/// Returns the string a raw JSON value holds, or nullopt when it is not a string.
std::optional<std::string> json_as_string(std::string_view raw);

/// Returns the integer a raw JSON value holds, or nullopt when it is not an integral number.
std::optional<std::int64_t> json_as_int(std::string_view raw);

/// Returns the boolean a raw JSON value holds, or nullopt when it is not true or false.
std::optional<bool> json_as_bool(std::string_view raw);

/// Returns the strings of a raw JSON array of strings, or nullopt when it is anything else.
std::optional<std::vector<std::string>> json_as_string_array(std::string_view raw);

/// Returns the raw JSON of each element of a raw JSON array, or nullopt when it is anything else.
std::optional<std::vector<std::string>> json_array_elements(std::string_view raw);

/// Returns whether a raw JSON value is an object.
bool json_is_object(std::string_view raw);

/// Returns whether `text` is one JSON value of any type (an object, an array, a string, a number, true, false or
/// null), with blanks around it at most.
bool json_is_value(std::string_view text);

// -- writing JSON --------------------------------------------------------------

/// Appends `text` to `out` as a quoted, escaped JSON string.
void append_json_string(std::string& out, std::string_view text);

/// Builds JSON text front to back; commas are placed by the writer.
class json_writer {
public:
  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();
  json_writer& key(std::string_view name);
  json_writer& value(std::string_view text);
  json_writer& value(const char* text) {
    return value(std::string_view{text});
  }
  json_writer& value(std::int64_t number);
  json_writer& value(int number) {
    return value(static_cast<std::int64_t>(number));
  }
  json_writer& value(bool flag);
  json_writer& null();
  /// Appends already valid JSON as one value.
  json_writer& raw(std::string_view json);

  const std::string& str() const noexcept {
    return out_;
  }

  std::string take() {
    return std::move(out_);
  }

private:
  void before_value();

  std::string out_;
  bool need_comma_ = false;
};

} // namespace feedrouter

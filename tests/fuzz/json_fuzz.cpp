// Fuzzes the JSON reader helpers every tenant parameter and remote document goes through, and the one JSON writer.
//
// Input: text A, a NUL byte, text B. A is read as an object, a string, an integer, a boolean and a string array, and
// merged with B as defaults; A and B are also written as a key and a string value.
// Invariants: an object's members are written back to text that reads as the same members; any bytes written as a
// JSON string read back as a string, as themselves when they are UTF-8; an integer read is written back to the same
// integer; merging defaults yields an object that keeps all of its own members.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "core/json.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace feedrouter;
using fuzz::require;

bool is_utf8(std::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}

void check_object(std::string_view text) {
  auto members = parse_json_object(text, "params");
  if (!members) {
    // The field is the parameter's own name for a duplicate, which may be "": only the reason is always there.
    require(!members.error().message.empty(), "a refusal says why");
    return;
  }
  auto again = parse_json_object(to_json_object(*members), "params");
  require(again && *again == *members, "an object's members read back from their JSON text");
}

void check_string(std::string_view bytes) {
  std::string quoted;
  append_json_string(quoted, bytes);
  auto read = json_as_string(quoted);
  require(!!read, "any bytes written as a JSON string read back as a string");
  if (is_utf8(bytes))
    require(*read == bytes, "UTF-8 written as a JSON string reads back as itself");
}

void check_scalars(std::string_view text) {
  if (auto text_value = json_as_string(text))
    check_string(*text_value);
  if (auto number = json_as_int(text))
    require(json_as_int(std::to_string(*number)) == number, "an integer reads back from its digits");
  (void)json_as_bool(text);
  if (auto list = json_as_string_array(text))
    for (const auto& item : *list)
      check_string(item);
}

void check_merge(std::string_view object, std::string_view defaults) {
  auto merged = parse_json_object(merge_object_defaults(object, defaults), "merged");
  require(!!merged, "merging defaults yields an object");
  if (auto own = parse_json_object(object, "object"))
    for (const auto& [name, raw] : *own) {
      const auto* kept = find_member(*merged, name);
      require(kept != nullptr && *kept == raw, "an object keeps its own members when defaults are merged");
    }
}

void check_writer(std::string_view key, std::string_view value) {
  json_writer out;
  out.begin_object().key(key).value(value).end_object();
  auto members = parse_json_object(out.str(), "written");
  require(!!members, "what the writer writes is a JSON object");
  if (is_utf8(key) && is_utf8(value)) {
    const auto* written = find_member(*members, key);
    require(written != nullptr && json_as_string(*written) == value, "a written member reads back");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::fuzz_input in{data, size};
  const auto a = in.part();
  const auto b = in.rest();
  check_object(a);
  check_scalars(a);
  check_string(a);
  check_merge(a, b);
  check_writer(a, b);
  return 0;
}

#include "tests/e2e/json_probe.hpp"

#include <simdjson.h>

namespace feedrouter::test {

namespace {

/// Parses `json` with `parser` and walks to `pointer`; the element lives as long as the parser.
simdjson::simdjson_result<simdjson::dom::element> find(simdjson::dom::parser& parser, std::string_view json,
                                                       std::string_view pointer) {
  // The DOM copies what it keeps, so the input need not outlive the call.
  auto root = parser.parse(json.data(), json.size(), true);
  if (root.error())
    return root.error();
  return root.value().at_pointer(pointer);
}

} // namespace

std::optional<std::string> json_string_at(std::string_view json, std::string_view pointer) {
  simdjson::dom::parser parser;
  std::string_view text;
  if (find(parser, json, pointer).get_string().get(text))
    return std::nullopt;
  return std::string{text};
}

std::optional<std::int64_t> json_int_at(std::string_view json, std::string_view pointer) {
  simdjson::dom::parser parser;
  std::int64_t number = 0;
  if (find(parser, json, pointer).get_int64().get(number))
    return std::nullopt;
  return number;
}

std::optional<std::string> json_at(std::string_view json, std::string_view pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element value;
  if (find(parser, json, pointer).get(value))
    return std::nullopt;
  return simdjson::minify(value);
}

} // namespace feedrouter::test

#pragma once

// Feed parameters for the spec tests, written as JSON.

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "core/json.hpp"

namespace feedrouter::test {

/// Returns the members of the JSON object `json`; fails the test when it is not one (a bug in the test).
inline json_members params(std::string_view json) {
  auto parsed = parse_json_object(json, "params");
  INFO(json << ": " << (parsed ? std::string{} : parsed.error().message));
  REQUIRE(parsed);
  return *parsed;
}

} // namespace feedrouter::test

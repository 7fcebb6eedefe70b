#pragma once

// Feed parameters for the spec tests, written as JSON.

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "core/egress_policy.hpp"
#include "core/json.hpp"

namespace feedrouter::test {

/// Returns the members of the JSON object `json`; fails the test when it is not one (a bug in the test).
inline json_members params(std::string_view json) {
  auto parsed = parse_json_object(json, "params");
  INFO(json << ": " << (parsed ? std::string{} : parsed.error().message));
  REQUIRE(parsed);
  return *parsed;
}

/// Returns an egress policy that also lets tenants reach 127.0.0.1, as the tests' --allow-egress 127.0.0.1 does.
inline egress_policy loopback_allowed() {
  auto rule = parse_egress_rule("127.0.0.1", "--allow-egress");
  REQUIRE(rule);
  return egress_policy{{*rule}, {}};
}

} // namespace feedrouter::test

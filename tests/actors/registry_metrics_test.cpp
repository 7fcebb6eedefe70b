#include <catch2/catch.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "metrics_sample.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

TEST_CASE_METHOD(actor_fixture, "a start counts the registrations it disables AUTO: invalid stored parameters, "
                                "unreadable secrets, one stored disabled already is not counted again",
                 "[registry][metrics]") {
  auto invalid = make_record({"guest", "invalid"}, R"({"seconds": 1})", at(-500ms));
  invalid.params_json = R"({"seconds":0})";
  // What the store loads for a row whose secrets do not open: disabled, without parameters, saying why.
  auto unreadable = make_record({"guest", "unreadable"}, R"({"seconds": 1})", at(-500ms));
  unreadable.params_json.clear();
  unreadable.status.state = registration_state::disabled;
  unreadable.status.reason = {reason_kind::automatic, 0, "the secrets do not open with this key"};
  auto still_invalid = make_record({"guest", "still-invalid"}, R"({"seconds": 1})", at(-500ms));
  still_invalid.params_json = R"({"seconds":0})";
  still_invalid.status.state = registration_state::disabled;
  still_invalid.status.reason = {reason_kind::automatic, 0, "stored parameters are invalid"};
  auto registry = spawn_registry({invalid, unreadable, still_invalid});
  REQUIRE(call<std::size_t>(registry, ready_atom::value) == 3);
  CHECK(metric_sample(*stats, R"(feedrouter_registrations_auto_disabled_total{feed="alarm"})") == 2);
  CHECK(metric_sample(*stats, R"(feedrouter_registrations{feed="alarm",state="disabled"})") == 3);
}

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

/// The --body-limit the process runs with: the smallest it accepts, so an oversized body stays small.
constexpr std::size_t body_limit = 1024;

/// One request the API must refuse, and how.
struct bad_request {
  std::string what;
  http_request request;
  int status;
  std::string field; ///< the field the error names; empty when not checked
};

http_request with_content_type(http_request req, std::string type) {
  for (auto& [name, value] : req.fields)
    if (name == "Content-Type")
      value = std::move(type);
  return req;
}

std::vector<bad_request> bad_requests(const trigger_ref& trigger) {
  auto path = trigger_path(trigger);
  auto valid_body = alarm_body(every_second, R"({"changed":true})");
  auto oversized_body = alarm_body(every_second, R"({"padding":")" + std::string(body_limit * 2, 'x') + "\"}");
  return {
    {"malformed JSON", api_request("PUT", path, alice_key, R"({"feed":"alarm","cron":)"), 400, "body"},
    {"malformed JSON in an UPDATE", api_request("PATCH", path, alice_key, R"({"cron":)"), 400, "body"},
    {"a body that is not an object", api_request("PUT", path, alice_key, "[1,2]"), 400, "body"},
    {"cron of the wrong type", api_request("PUT", path, alice_key, R"({"feed":"alarm","cron":5})"), 400, "cron"},
    {"cron of the wrong type in an UPDATE", api_request("PATCH", path, alice_key, R"({"cron":5})"), 400, "cron"},
    {"a cron that does not parse", api_request("PUT", path, alice_key, R"({"feed":"alarm","cron":"every day"})"),
     400, "cron"},
    {"a cron that does not parse in an UPDATE", api_request("PATCH", path, alice_key, R"({"cron":"61 * * * *"})"),
     400, "cron"},
    {"an unknown feed", api_request("PUT", path, alice_key, R"({"feed":"sundial","cron":"* * * * *"})"), 400, "feed"},
    {"a feed of the wrong type", api_request("PUT", path, alice_key, R"({"feed":7,"cron":"* * * * *"})"), 400,
     "feed"},
    {"a trigger_payload that is neither object nor string",
     api_request("PATCH", path, alice_key, R"({"trigger_payload":[1]})"), 400, "trigger_payload"},
    {"a feed-action CREATE with a cron of the wrong type",
     lifecycle_request("CREATE", trigger, alice_key, R"("feed":"alarm","cron":5)"), 400, "cron"},
    {"a feed-action request with malformed JSON",
     api_request("POST", "/v1/lifecycle", {}, R"({"lifecycleEvent":"DELETE",)"), 400, "body"},
    {"no Authorization header", api_request("PUT", path, {}, valid_body), 401, "authorization"},
    {"no Authorization header on a DELETE", api_request("DELETE", path), 401, "authorization"},
    {"a feed-action DELETE without authKey",
     api_request("POST", "/v1/lifecycle", {}, R"({"lifecycleEvent":"DELETE","triggerName":"/alice/guarded"})"), 401,
     "authKey"},
    {"a body that is not JSON", with_content_type(api_request("PUT", path, alice_key, valid_body), "text/plain"), 415,
     ""},
    {"a body over --body-limit", api_request("PUT", path, alice_key, oversized_body), 413, ""},
  };
}

} // namespace

TEST_CASE("bad input is refused with the right status and field and leaves stored registrations intact", "[e2e]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "guarded"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter({"--body-limit", std::to_string(body_limit)});
  auto path = trigger_path(trigger);
  // A yearly alarm, so that nothing in the registration changes while the test runs.
  REQUIRE(fr->call(api_request("PUT", path, alice_key, alarm_body(yearly, R"({"original":true})"))).status == 201);
  auto original = fr->call(api_request("GET", path, alice_key));
  REQUIRE(original.status == 200);

  for (auto& bad : bad_requests(trigger)) {
    INFO(bad.what);
    auto answer = fr->try_call(std::move(bad.request));
    INFO("transport error: " << answer.error);
    REQUIRE(answer.ok());
    INFO("answer: " << answer.response.body);
    CHECK(answer.response.status == bad.status);
    if (!bad.field.empty())
      CHECK(json_string_at(answer.response.body, "/field") == bad.field);
    REQUIRE(fr->process().running());
    CHECK(fr->call(api_request("GET", "/health")).status == 200);
    auto now = fr->call(api_request("GET", path, alice_key));
    INFO("READ: " << now.body);
    CHECK(now.status == 200);
    CHECK(json_at(now.body, "/config") == json_at(original.body, "/config"));
    CHECK(json_string_at(now.body, "/status/state") == "active");
    // dateChanged is epoch milliseconds (OpenWhisk's form): present, and unchanged.
    REQUIRE(json_int_at(original.body, "/status/dateChanged"));
    CHECK(json_int_at(now.body, "/status/dateChanged") == json_int_at(original.body, "/status/dateChanged"));
  }

  fr->stop_cleanly();
}

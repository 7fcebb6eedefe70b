#include "app/api_answers.hpp"

#include "app/list_cursor.hpp"

#include <catch2/catch.hpp>

using namespace feedrouter;
using namespace std::chrono_literals;

TEST_CASE("each outcome of a lifecycle request has its HTTP status", "[api_answers]") {
  CHECK(http_status(api_outcome::ok) == 200);
  CHECK(http_status(api_outcome::created) == 201);
  CHECK(http_status(api_outcome::replaced) == 200);
  CHECK(http_status(api_outcome::removed) == 204);
  CHECK(http_status(api_outcome::accepted) == 202);
  CHECK(http_status(api_outcome::invalid) == 400);
  CHECK(http_status(api_outcome::unauthorized) == 401);
  CHECK(http_status(api_outcome::forbidden) == 403);
  CHECK(http_status(api_outcome::over_quota) == 429);
  CHECK(http_status(api_outcome::not_found) == 404);
  CHECK(http_status(api_outcome::conflict) == 409);
  CHECK(http_status(api_outcome::too_many) == 429);
  CHECK(http_status(api_outcome::unavailable) == 503);
}

TEST_CASE("a failure is answered as {error, field}", "[api_answers]") {
  auto res = to_http(failure(api_outcome::invalid, "cron: must have 5 or 6 fields", "cron"));
  CHECK(res.status == 400);
  CHECK(res.field("Content-Type") == "application/json");
  CHECK(res.body == R"({"error":"cron: must have 5 or 6 fields","field":"cron"})");
  CHECK(res.field("Retry-After").empty());
}

TEST_CASE("too many is answered with Retry-After in seconds", "[api_answers]") {
  auto full = failure(api_outcome::too_many, "too many events are waiting for the controller; retry later");
  full.retry_after = 1s;
  auto res = to_http(full);
  CHECK(res.status == 429);
  CHECK(res.field("Retry-After") == "1");
}

TEST_CASE("every 429 says when to come back, also when the refusal named no time", "[api_answers]") {
  auto res = to_http(failure(api_outcome::too_many, "busy"));
  CHECK(res.status == 429);
  CHECK(res.field("Retry-After") == "1");
}

TEST_CASE("a namespace over its quota is answered 429 naming the limit and the namespace, with a Retry-After of a "
          "minute", "[api_answers]") {
  auto res = to_http(failure(api_outcome::over_quota,
                             "namespace: guest has 5 registrations, the most this provider allows per namespace "
                             "(--max-registrations-per-namespace)",
                             "namespace"));
  CHECK(res.status == 429);
  CHECK(res.body.find("--max-registrations-per-namespace") != std::string::npos);
  CHECK(res.body.find(R"("field":"namespace")") != std::string::npos);
  // The quota passes only when the tenant deletes a registration: not the 1 s of a passing overload.
  CHECK(res.field("Retry-After") == "60");
}

TEST_CASE("a removal is answered 204 without a body", "[api_answers]") {
  auto res = to_http(success(api_outcome::removed));
  CHECK(res.status == 204);
  CHECK(res.body.empty());
  CHECK(res.field("Content-Type").empty());
}

TEST_CASE("webhook and replay receipts are answered as JSON", "[api_answers]") {
  CHECK(to_http(success(api_outcome::accepted, hook_receipt{false, 7})).body == R"({"accepted":true,"seq":7})");
  CHECK(to_http(success(api_outcome::accepted, hook_receipt{true, 0})).body == R"({"ignored":true})");
  CHECK(to_http(success(api_outcome::accepted, replay_receipt{3})).body == R"({"replayed":3})");
}

TEST_CASE("a registration is shown without its redacted parameters, and a webhook's CREATE shows its secret once",
          "[api_answers]") {
  registration_view view;
  view.trigger = {"guest", "gh"};
  view.feed = "webhook";
  view.params_json = R"({"hookId":"abc","secret":"s3cr3t-s3cr3t-s3cr3t"})";
  view.live.hook_url = "https://feeds.test/v1/hooks/abc";
  auto read = to_http(success(api_outcome::ok, view)).body;
  CHECK(read.find("s3cr3t") == std::string::npos);
  view.secret = "s3cr3t-s3cr3t-s3cr3t";
  auto created = to_http(success(api_outcome::created, view));
  CHECK(created.status == 201);
  CHECK(created.body.find(R"("secret":"s3cr3t-s3cr3t-s3cr3t")") != std::string::npos);
  CHECK(created.body.find(R"("hookUrl":"https://feeds.test/v1/hooks/abc")") != std::string::npos);
}

TEST_CASE("a page of registrations is shown under triggers, with the cursor of the next page when more follow",
          "[api_answers]") {
  registration_view one;
  one.trigger = {"guest", "a"};
  one.feed = "alarm";
  one.params_json = R"({"minutes":1})";
  registration_page page;
  page.views = {one, one};
  auto last = to_http(success(api_outcome::ok, page)).body;
  CHECK(last.rfind(R"({"triggers":[{"config":{"feed":"alarm","triggerName":"/guest/a","name":"a","namespace":"guest",)"
                         R"("minutes":1,"payload":{},"strict":false})",
                         0)
        == 0);
  CHECK(last.find(R"("next")") == std::string::npos);
  page.next = trigger_ref{"guest", "a"};
  auto more = to_http(success(api_outcome::ok, page)).body;
  CHECK(more.find(R"(],"next":")" + encode_list_cursor({"guest", "a"}) + R"("})") != std::string::npos);
}

TEST_CASE("a registration's status is a superset of what OpenWhisk's feeds show", "[api_answers]") {
  registration_view view;
  view.trigger = {"guest", "every5"};
  view.feed = "alarm";
  view.params_json = R"({"isInterval":true,"minutes":5,"startDate":1735689630000,"trigger_payload":"hi"})";
  view.status.state = registration_state::disabled;
  view.status.reason = {reason_kind::automatic, 404, "the controller refused the fire: not found"};
  view.status.date_changed = sys_ms{1'735'693'200'123ms};
  view.status.fires = 3;
  auto body = to_http(success(api_outcome::ok, view)).body;
  // OpenWhisk's members of config (config.payload is what each fire carries) ...
  CHECK(body.find(R"("name":"every5","namespace":"guest",)") != std::string::npos);
  CHECK(body.find(R"("minutes":5,"startDate":1735689630000)") != std::string::npos);
  CHECK(body.find(R"("payload":{"payload":"hi"},"strict":false)") != std::string::npos);
  // ... and of status: active, dateChanged in epoch ms, dateChangedISO to the second, reason with its status code.
  CHECK(body.find(R"("status":{"active":false,"state":"disabled",)"
                  R"("reason":{"kind":"AUTO","statusCode":404,"message":"the controller refused the fire: not found"},)"
                  R"("dateChanged":1735693200123,"dateChangedISO":"2025-01-01T01:00:00Z",)")
        != std::string::npos);
  CHECK(body.find(R"("fires":3)") != std::string::npos);
}

TEST_CASE("a reason without a status code has no statusCode, as OpenWhisk's", "[api_answers]") {
  registration_view view;
  view.trigger = {"guest", "t"};
  view.feed = "alarm";
  view.params_json = R"({"cron":"* * * * *"})";
  view.status.state = registration_state::paused;
  view.status.reason = {reason_kind::user, 0, "paused by the owner"};
  auto body = to_http(success(api_outcome::ok, view)).body;
  CHECK(body.find(R"("reason":{"kind":"USER","message":"paused by the owner"})") != std::string::npos);
  registration_view active = view;
  active.status.state = registration_state::active;
  active.status.reason = {};
  auto shown = to_http(success(api_outcome::ok, active)).body;
  CHECK(shown.find(R"("active":true)") != std::string::npos);
  CHECK(shown.find("reason") == std::string::npos);
}

TEST_CASE("a changes registration shows OpenWhisk's cloudant members but never its password or IAM key",
          "[api_answers]") {
  registration_view view;
  view.trigger = {"guest", "c"};
  view.feed = "changes";
  view.params_json = R"({"url":"https://account.cloudant.com","dbName":"testdb","username":"u","password":"pw-1",)"
                     R"("iamApiKey":"key-1"})";
  auto body = to_http(success(api_outcome::ok, view)).body;
  CHECK(body.find(R"("host":"account.cloudant.com","protocol":"https","dbname":"testdb")") != std::string::npos);
  CHECK(body.find(R"("iamUrl":"https://iam.cloud.ibm.com/identity/token")") != std::string::npos);
  CHECK(body.find("pw-1") == std::string::npos);
  CHECK(body.find("key-1") == std::string::npos);
  CHECK(body.find("password") == std::string::npos);
  CHECK(body.find("iamApiKey") == std::string::npos);
}

TEST_CASE("a list cursor names the registration it ends with, and nothing else passes for one", "[api_answers]") {
  for (const auto& name : {trigger_ref{"guest", "a"}, trigger_ref{"ns@example.com_dev", "my trigger-1.x"}}) {
    auto cursor = encode_list_cursor(name);
    CHECK(cursor.find_first_of("+/=&?% ") == std::string::npos);
    CHECK(decode_list_cursor(cursor) == name);
  }
  for (const auto* bad : {"", "!!!", "Z3Vlc3Q=", "Z3Vlc3Q", "Z3Vlc3QvYS9i", "Z3Vlc3QvLmE"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(decode_list_cursor(bad).has_value());
  }
  CHECK_FALSE(decode_list_cursor(std::string(2000, 'A')).has_value());
}

TEST_CASE("a page of namespaces is shown with their counts, with the cursor of the next page when more follow",
          "[api_answers]") {
  namespace_page page;
  page.namespaces = {{"guest", 3}, {"other", 1}};
  CHECK(to_http(success(api_outcome::ok, page)).body
        == R"({"namespaces":[{"namespace":"guest","registrations":3},{"namespace":"other","registrations":1}]})");
  page.next = "other";
  auto res = to_http(success(api_outcome::ok, page));
  CHECK(res.body.find(R"("next":")" + encode_namespace_cursor("other") + '"') != std::string::npos);
  CHECK(decode_namespace_cursor(encode_namespace_cursor("other")) == "other");
  CHECK_FALSE(decode_namespace_cursor("!!"));
  CHECK_FALSE(decode_namespace_cursor(encode_namespace_cursor("a/b")));
}

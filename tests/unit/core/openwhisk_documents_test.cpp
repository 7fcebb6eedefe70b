// The trigger documents of OpenWhisk's alarms and cloudant providers (their shapes: docs/migrating-from-openwhisk.md),
// read as the registrations import-openwhisk makes of them.

#include "core/openwhisk_documents.hpp"

#include <string>

#include <catch2/catch.hpp>

#include "core/json.hpp"
#include "params.hpp"

using namespace feedrouter;
using feedrouter::test::params;

namespace {

const sys_ms now = parse_iso8601("2026-01-15T10:00:00Z").value();
const std::string key = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyG";

openwhisk_trigger alarm(const std::string& members) {
  auto doc = read_openwhisk_document(R"({"_id":")" + key + R"(/guest/periodic","_rev":"3-a","apikey":")" + key
                                       + R"(","name":"periodic","namespace":"guest","worker":"worker0",)" + members
                                       + "}",
                                     openwhisk_provider::alarms, now);
  INFO(doc.error << doc.skipped);
  REQUIRE(doc.trigger);
  return *doc.trigger;
}

} // namespace

TEST_CASE("an active cron document becomes a cron alarm numbering months 0-11 and firing at second 0",
          "[openwhisk_documents]") {
  auto t = alarm(R"("payload":{"name":"Odin"},"maxTriggers":5,"status":{"active":true,"dateChanged":1735689600000},
                    "cron":"*/2 * * * *","timezone":"America/New_York","strict":"false",
                    "startDate":"2031-01-01T00:00:00.000Z")");
  CHECK(t.trigger == trigger_ref{"guest", "periodic"});
  CHECK(t.auth_key == key);
  CHECK(t.rev == "3-a");
  CHECK(t.feed == "alarm");
  CHECK(t.kind == "cron");
  CHECK(t.state == registration_state::active);
  CHECK(t.date_changed == sys_ms{std::chrono::milliseconds{1735689600000}});
  CHECK(t.params == params(R"({"trigger_payload":{"name":"Odin"},"cron":"*/2 * * * *","timezone":"America/New_York",
                              "startDate":"2031-01-01T00:00:00.000Z","cronMonths":"0-11","strict":true,
                              "maxTriggers":5})"));
  // Its job starts only at startDate: the old provider cannot stop it before then.
  CHECK(t.old_provider_may_fire);
}

TEST_CASE("an interval document keeps its phase and drops maxTriggers, which OpenWhisk never enforced",
          "[openwhisk_documents]") {
  auto t = alarm(R"("payload":{"payload":""},"maxTriggers":3,"minutes":5,"startDate":1735689630000)");
  CHECK(t.kind == "interval");
  CHECK(t.params == params(R"({"trigger_payload":{"payload":""},"isInterval":true,"minutes":5,
                              "startDate":1735689630000})"));
  CHECK(t.old_provider_may_fire);
}

TEST_CASE("a one-shot document keeps deleteAfterFire, one whose date passed while active is imported disabled",
          "[openwhisk_documents]") {
  auto ahead = alarm(R"("payload":{},"maxTriggers":-1,"date":"2031-12-25T12:30:00.000Z","deleteAfterFire":"rules")");
  CHECK(ahead.kind == "once");
  CHECK(ahead.state == registration_state::active);
  CHECK(ahead.params == params(R"({"trigger_payload":{},"fireOnce":true,"date":"2031-12-25T12:30:00.000Z",
                                  "deleteAfterFire":"rules"})"));
  auto expired = alarm(R"("payload":{},"maxTriggers":-1,"date":"2025-12-25T12:30:00.000Z")");
  CHECK(expired.state == registration_state::disabled);
  CHECK(expired.reason.kind == reason_kind::automatic);
  CHECK_THAT(expired.reason.message, Catch::Contains("the fire once date has expired"));
}

TEST_CASE("a disabled document keeps its reason, used-up maxTriggers are known by it", "[openwhisk_documents]") {
  auto used_up = alarm(R"("payload":{},"maxTriggers":5,"cron":"* * * * *","status":{"active":false,
    "dateChanged":1735693200000,"reason":{"kind":"AUTO",
    "message":"Automatically disabled after reaching max triggers"}})");
  CHECK(used_up.state == registration_state::disabled);
  CHECK(used_up.max_triggers_used_up);
  CHECK(used_up.reason.status_code == 0);
  auto refused = alarm(R"("payload":{},"maxTriggers":-1,"cron":"* * * * *","status":{"active":false,"reason":{
    "kind":"AUTO","statusCode":404,"message":"Trigger automatically disabled: Received a 404 status code"}})");
  CHECK(refused.reason.status_code == 404);
  auto admin = alarm(R"("payload":{},"maxTriggers":-1,"cron":"* * * * *","status":{"active":false,"reason":{
    "kind":"ADMIN","message":"by support"}})");
  CHECK(admin.reason.kind == reason_kind::admin);
  auto updating = alarm(R"("payload":{},"maxTriggers":-1,"cron":"* * * * *","status":{"active":false,"reason":{
    "kind":"AUTO","message":"Automatically disabled trigger while updating"}})");
  CHECK(updating.state == registration_state::active);
}

TEST_CASE("what is no trigger to import is skipped, and what cannot be imported says why", "[openwhisk_documents]") {
  auto skipped = [](const std::string& json) {
    return read_openwhisk_document(json, openwhisk_provider::alarms, now).skipped;
  };
  CHECK(skipped(R"({"_id":"_design/triggerViews","views":{}})") == "design document _design/triggerViews");
  CHECK_THAT(skipped(R"({"_id":"k/ns/alarms_worker0host_1","monitor":"host","maxTriggers":1,"apikey":"a:b"})"),
             Catch::Contains("health monitor"));
  CHECK_THAT(skipped(R"({"_id":"x","apikey":"a:b","cron":"* * * * *"})"), Catch::Contains("no maxTriggers"));
  CHECK_THAT(skipped(R"({"_id":"a:b/ns/t","apikey":"a:b","maxTriggers":-1,"cron":"* * * * *","status":{"active":false,
               "reason":{"kind":"AUTO","message":"Marked for deletion"}}})"),
             Catch::Contains("being deleted"));
  auto error = [](const std::string& json) {
    return read_openwhisk_document(json, openwhisk_provider::alarms, now).error;
  };
  CHECK_THAT(error(R"({"_id":"a:b/ns/t","maxTriggers":-1,"cron":"* * * * *"})"), Catch::Contains("apikey"));
  CHECK_THAT(error(R"({"_id":"a:b/ns/t","apikey":"a:b","maxTriggers":-1})"), Catch::Contains("no cron"));
  CHECK_THAT(error("[]"), Catch::Contains("not a JSON object"));
}

TEST_CASE("an alarms document without name and namespace is named by its id, the key left out",
          "[openwhisk_documents]") {
  auto doc = read_openwhisk_document(R"({"_id":"a:b/_/legacy","apikey":"a:b","maxTriggers":-1,"cron":"* * * * *"})",
                                     openwhisk_provider::alarms, now);
  REQUIRE(doc.trigger);
  CHECK(doc.trigger->trigger == trigger_ref{"_", "legacy"});
}

TEST_CASE("a cloudant document becomes a changes registration with OpenWhisk's parameters", "[openwhisk_documents]") {
  auto doc = read_openwhisk_document(
    R"({"_id":":guest:myCloudantTrigger","id":":guest:myCloudantTrigger","host":"account.cloudant.com","port":443,
        "protocol":"https","dbname":"testdb","user":"reader","pass":"secret","apikey":"a:b","since":"now",
        "maxTriggers":-1,"filter":"mailbox/by_status","query_params":{"status":"new"},
        "status":{"active":true,"dateChanged":1735689600000},"iamUrl":"https://iam.bluemix.net/identity/token"})",
    openwhisk_provider::cloudant, now);
  REQUIRE(doc.trigger);
  const auto& t = *doc.trigger;
  CHECK(t.trigger == trigger_ref{"guest", "myCloudantTrigger"});
  CHECK(t.feed == "changes");
  CHECK(t.params == params(R"({"host":"account.cloudant.com","port":443,"protocol":"https","dbname":"testdb",
                              "username":"reader","password":"secret","filter":"mailbox/by_status",
                              "query_params":{"status":"new"},"since":"now"})"));
  auto iam = read_openwhisk_document(R"({"_id":":guest:t","host":"h","dbname":"d","apikey":"a:b","maxTriggers":2,
                                         "iamApiKey":"k","iamUrl":"https://iam.example/token","since":0})",
                                     openwhisk_provider::cloudant, now);
  REQUIRE(iam.trigger);
  CHECK(iam.trigger->params == params(R"({"host":"h","dbname":"d","iamApiKey":"k",
                                          "iamUrl":"https://iam.example/token","maxTriggers":2})"));
  CHECK_THAT(read_openwhisk_document(R"({"_id":"canary-1","isCanaryDoc":true})", openwhisk_provider::cloudant, now)
               .skipped,
             Catch::Contains("canary"));
  CHECK_THAT(read_openwhisk_document(R"({"_id":"guest-t","apikey":"a:b","maxTriggers":-1})",
                                     openwhisk_provider::cloudant, now)
               .error,
             Catch::Contains(":namespace:name"));
}

TEST_CASE("a document disabled at its source keeps every member but its status", "[openwhisk_documents]") {
  auto doc = R"({"_id":"k/ns/t","_rev":"2-b","maxTriggers":-1,"worker":"worker0","status":{"active":true}})";
  CHECK(active_at_source(doc));
  auto disabled = disabled_at_source(doc, sys_ms{std::chrono::milliseconds{1700000000000}});
  CHECK(params(disabled) == params(R"({"_id":"k/ns/t","_rev":"2-b","maxTriggers":-1,"worker":"worker0",
    "status":{"active":false,"dateChanged":1700000000000,"reason":{"kind":"ADMIN",
    "message":"Disabled after migration to feedrouter"}}})"));
  CHECK_FALSE(active_at_source(disabled));
  CHECK(active_at_source(R"({"_id":"x"})"));
}

TEST_CASE("the feed annotation is read from OpenWhisk's JSON of a trigger", "[openwhisk_documents]") {
  CHECK(feed_annotation(R"({"name":"t","annotations":[{"key":"x","value":1},
                                                     {"key":"feed","value":"/whisk.system/alarms/alarm"}]})")
        == "/whisk.system/alarms/alarm");
  CHECK(feed_annotation(R"({"name":"t","annotations":[]})").empty());
  CHECK(feed_annotation("nonsense").empty());
}

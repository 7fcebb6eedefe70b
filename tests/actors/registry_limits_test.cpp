// The registry's bounds on what one key or namespace may cost: lists come in pages from the registry's own index,
// and a namespace has a quota of registrations (docs/api.md).

#include <catch2/catch.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "app/list_cursor.hpp"
#include "printers.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

/// Spawns a registry whose namespaces may each have `quota` registrations.
registry_actor spawn_registry_with_quota(actor_fixture& f, std::size_t quota) {
  registry_config cfg;
  cfg.env = f.env;
  cfg.max_registrations_per_namespace = quota;
  auto registry = feedrouter::spawn_registry(f.sys, cfg, {});
  f.stop_at_teardown(caf::actor_cast<caf::actor>(registry));
  f.run();
  return registry;
}

api_reply create(actor_fixture& f, const registry_actor& registry, const trigger_ref& trigger,
                 const std::string& key = owner_key) {
  return f.api(registry, command(api_op::create, trigger, key, R"({"minutes": 5})"));
}

api_reply remove(actor_fixture& f, const registry_actor& registry, const trigger_ref& trigger) {
  return f.api(registry, command(api_op::remove, trigger, owner_key, "{}", ""));
}

/// Lists `ns` for the owner: `limit` at most, after `cursor` (empty: from the start).
api_reply list(actor_fixture& f, const registry_actor& registry, const std::string& ns, std::size_t limit,
               const std::string& cursor = {}) {
  auto cmd = command(api_op::list, {ns, ""}, owner_key, "{}", "");
  cmd.limit = limit;
  if (!cursor.empty())
    cmd.after = decode_list_cursor(cursor);
  return f.api(registry, std::move(cmd));
}

/// Returns the trigger names a list answer shows, in order.
std::vector<std::string> names_in(const std::string& body) {
  std::vector<std::string> names;
  const std::string marker = R"("triggerName":")";
  for (auto at = body.find(marker); at != std::string::npos; at = body.find(marker, at + 1)) {
    auto start = at + marker.size();
    names.push_back(body.substr(start, body.find('"', start) - start));
  }
  return names;
}

std::string name_of(int i) {
  auto text = std::to_string(i);
  return "t" + std::string(3 - text.size(), '0') + text;
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "a list comes in pages in name order, each with the cursor of the next",
                 "[registry][limits]") {
  auto registry = spawn_registry();
  for (int i = 1; i <= 7; ++i)
    REQUIRE(create(*this, registry, {"guest", name_of(i)}).status == 201);
  REQUIRE(create(*this, registry, {"other", "x"}).status == 201);
  REQUIRE(create(*this, registry, {"guest", "theirs"}, other_key).status == 201);
  auto first = list(*this, registry, "guest", 3);
  CHECK(first.status == 200);
  CHECK(names_in(first.body) == std::vector<std::string>{"/guest/t001", "/guest/t002", "/guest/t003"});
  auto cursor = json_string_at(first.body, "next");
  REQUIRE(cursor);
  CHECK(*cursor == encode_list_cursor({"guest", "t003"}));
  auto second = list(*this, registry, "guest", 3, *cursor);
  CHECK(names_in(second.body) == std::vector<std::string>{"/guest/t004", "/guest/t005", "/guest/t006"});
  auto third = list(*this, registry, "guest", 3, *json_string_at(second.body, "next"));
  CHECK(names_in(third.body) == std::vector<std::string>{"/guest/t007"});
  CHECK_FALSE(json_at(third.body, "next"));
  // Exactly one page's worth leaves no cursor either.
  CHECK_FALSE(json_at(list(*this, registry, "guest", 7).body, "next"));
  // "_" lists every namespace of the key, in order.
  auto all = list(*this, registry, "_", 100);
  CHECK(names_in(all.body).size() == 8);
  CHECK(names_in(all.body).back() == "/other/x");
}

TEST_CASE_METHOD(actor_fixture, "a cursor stays valid across creates and deletes between pages: nothing is shown twice "
                                "and nothing that stayed is skipped", "[registry][limits]") {
  auto registry = spawn_registry();
  for (int i = 2; i <= 20; i += 2)
    REQUIRE(create(*this, registry, {"guest", name_of(i)}).status == 201);
  auto first = list(*this, registry, "guest", 4);
  CHECK(names_in(first.body)
        == std::vector<std::string>{"/guest/t002", "/guest/t004", "/guest/t006", "/guest/t008"});
  // The last one shown is deleted, one before the cursor and one after it are created, one after it is deleted.
  REQUIRE(remove(*this, registry, {"guest", name_of(8)}).status == 204);
  REQUIRE(create(*this, registry, {"guest", name_of(1)}).status == 201);
  REQUIRE(create(*this, registry, {"guest", name_of(9)}).status == 201);
  REQUIRE(remove(*this, registry, {"guest", name_of(12)}).status == 204);
  auto second = list(*this, registry, "guest", 4, *json_string_at(first.body, "next"));
  CHECK(names_in(second.body)
        == std::vector<std::string>{"/guest/t009", "/guest/t010", "/guest/t014", "/guest/t016"});
}

TEST_CASE_METHOD(actor_fixture, "a listed registration shows its state as its trigger last changed it",
                 "[registry][limits]") {
  client->answer_all(404, R"({"error":"The requested resource does not exist."})");
  auto registry = spawn_registry();
  REQUIRE(api(registry, command(api_op::create, {"guest", "gone"}, owner_key, R"({"seconds": 1})")).status == 201);
  CHECK_THAT(list(*this, registry, "guest", 10).body, Catch::Contains(R"("state":"active")"));
  // The controller refuses the fire: the trigger disables the registration on its own.
  advance(1500ms);
  auto listed = list(*this, registry, "guest", 10).body;
  CHECK_THAT(listed, Catch::Contains(R"("state":"disabled")") && Catch::Contains(R"("statusCode":404)"));
}

TEST_CASE_METHOD(actor_fixture, "a namespace at its quota refuses a new registration with 429 naming the limit and the "
                                "namespace, and "
                                "takes one again after a delete", "[registry][limits]") {
  auto registry = spawn_registry_with_quota(*this, 3);
  for (int i = 1; i <= 3; ++i)
    REQUIRE(create(*this, registry, {"guest", name_of(i)}).status == 201);
  auto refused = create(*this, registry, {"guest", name_of(4)});
  CHECK(refused.status == 429);
  CHECK_THAT(json_string_at(refused.body, "error").value_or(""),
             Catch::StartsWith("namespace: guest has 3 registrations")
               && Catch::Contains("--max-registrations-per-namespace"));
  CHECK(json_string_at(refused.body, "field") == "namespace");
  CHECK(refused.retry_after == "60");
  CHECK(journal->ops_for({"guest", name_of(4)}).empty());
  // Replacing one it has is no new registration; another namespace has a quota of its own.
  CHECK(create(*this, registry, {"guest", name_of(2)}).status == 200);
  CHECK(create(*this, registry, {"other", name_of(1)}).status == 201);
  REQUIRE(remove(*this, registry, {"guest", name_of(1)}).status == 204);
  CHECK(create(*this, registry, {"guest", name_of(4)}).status == 201);
  CHECK(create(*this, registry, {"guest", name_of(5)}).status == 429);
}

TEST_CASE_METHOD(actor_fixture, "creates whose store writes are under way count against the quota",
                 "[registry][limits]") {
  auto registry = spawn_registry_with_quota(*this, 2);
  // Three CREATEs arrive before any store write commits.
  std::vector<reply_slot_ptr<api_result>> replies;
  for (int i = 1; i <= 3; ++i)
    replies.push_back(ask<api_result>(registry, command(api_op::create, {"guest", name_of(i)}, owner_key,
                                                        R"({"minutes": 5})")));
  run();
  std::vector<int> statuses;
  for (const auto& reply : replies) {
    REQUIRE(reply->value);
    statuses.push_back(reply_of(*reply->value).status);
  }
  CHECK(std::count(statuses.begin(), statuses.end(), 201) == 2);
  CHECK(std::count(statuses.begin(), statuses.end(), 429) == 1);
}

TEST_CASE_METHOD(actor_fixture, "a list is answered by the registry alone, asking none of the key's registrations",
                 "[registry][limits]") {
  auto registry = spawn_registry();
  for (int i = 1; i <= 200; ++i)
    REQUIRE(create(*this, registry, {"guest", name_of(i)}).status == 201);
  auto cmd = command(api_op::list, {"guest", ""}, owner_key, "{}", "");
  cmd.limit = 1000;
  auto reply = ask<api_result>(registry, std::move(cmd));
  // The probe sends, the registry answers, the probe takes the answer: no trigger runs in between, however many
  // registrations the key has.
  int steps = 0;
  while (!reply->arrived() && steps < 1000 && sched.try_run_once())
    ++steps;
  REQUIRE(reply->value);
  CHECK(steps <= 3);
  CHECK(std::get<registration_page>(reply->value->body).views.size() == 200);
}

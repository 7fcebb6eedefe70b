// The registry's protocol for operators (admin_command): lists and counts across namespaces, and disable (ADMIN) and
// enable of any registration, which only an operator lifts (docs/architecture.md section 9).

#include <catch2/catch.hpp>

#include "actor_fixture.hpp"
#include "app/list_cursor.hpp"
#include "printers.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

api_reply create(actor_fixture& f, const registry_actor& registry, const trigger_ref& trigger,
                 const std::string& key = owner_key, std::string_view params = R"({"minutes": 5})") {
  return f.api(registry, command(api_op::create, trigger, key, params));
}

/// Carries out one request of an operator and returns its answer as the control API shows it.
api_reply admin(actor_fixture& f, const registry_actor& registry, admin_command cmd) {
  return reply_of(f.call<api_result>(registry, std::move(cmd)));
}

admin_command admin_on(admin_op op, const trigger_ref& trigger, std::string message = {}) {
  admin_command cmd;
  cmd.op = op;
  cmd.trigger = trigger;
  cmd.message = std::move(message);
  return cmd;
}

admin_command admin_list(std::string ns, std::size_t limit, const std::string& cursor = {}) {
  admin_command cmd;
  cmd.op = admin_op::list;
  cmd.ns = std::move(ns);
  cmd.limit = limit;
  if (!cursor.empty())
    cmd.after = decode_list_cursor(cursor);
  return cmd;
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

/// Returns the reason of the last status of `trigger` the store committed, or nullopt when none was.
std::optional<state_reason> stored_reason(const store_journal& journal, const trigger_ref& trigger) {
  std::optional<state_reason> reason;
  for (const auto& op : journal.ops_for(trigger))
    if (op.op == store_op::kind::put_status || op.op == store_op::kind::put_registration)
      reason = op.record.status.reason;
  return reason;
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "an operator lists the registrations of every key and namespace in pages, or of one "
                                "namespace, without their secrets", "[registry][admin]") {
  auto registry = spawn_registry();
  REQUIRE(create(*this, registry, {"guest", "a"}).status == 201);
  REQUIRE(create(*this, registry, {"guest", "b"}, other_key).status == 201);
  REQUIRE(create(*this, registry, {"zeta", "c"}).status == 201);
  auto hook_params = R"({"secret": ")" + test_secret + R"("})";
  REQUIRE(api(registry, command(api_op::create, {"alpha", "hook"}, owner_key, hook_params, "webhook")).status == 201);
  auto first = admin(*this, registry, admin_list("", 3));
  CHECK(first.status == 200);
  CHECK(names_in(first.body) == std::vector<std::string>{"/alpha/hook", "/guest/a", "/guest/b"});
  CHECK(first.body.find(test_secret) == std::string::npos);
  CHECK(first.body.find(owner_key) == std::string::npos);
  auto cursor = json_string_at(first.body, "next");
  REQUIRE(cursor);
  auto second = admin(*this, registry, admin_list("", 3, *cursor));
  CHECK(names_in(second.body) == std::vector<std::string>{"/zeta/c"});
  CHECK_FALSE(json_at(second.body, "next"));
  auto guest = admin(*this, registry, admin_list("guest", 10));
  CHECK(names_in(guest.body) == std::vector<std::string>{"/guest/a", "/guest/b"});
  CHECK(names_in(admin(*this, registry, admin_list("nobody", 10)).body).empty());
}

TEST_CASE_METHOD(actor_fixture, "an operator counts the registrations of each namespace, in pages",
                 "[registry][admin]") {
  auto registry = spawn_registry();
  for (const auto& name : {"a", "b", "c"})
    REQUIRE(create(*this, registry, {"guest", name}).status == 201);
  REQUIRE(create(*this, registry, {"other", "a"}, other_key).status == 201);
  REQUIRE(create(*this, registry, {"third", "a"}).status == 201);
  admin_command cmd;
  cmd.op = admin_op::namespaces;
  cmd.limit = 2;
  auto first = call<api_result>(registry, cmd);
  const auto& page = std::get<namespace_page>(first.body);
  REQUIRE(page.namespaces.size() == 2);
  CHECK(page.namespaces[0].ns == "guest");
  CHECK(page.namespaces[0].registrations == 3);
  CHECK(page.namespaces[1].ns == "other");
  CHECK(page.namespaces[1].registrations == 1);
  CHECK(page.next == "other");
  cmd.after_ns = page.next;
  auto second = call<api_result>(registry, cmd);
  const auto& rest = std::get<namespace_page>(second.body);
  REQUIRE(rest.namespaces.size() == 1);
  CHECK(rest.namespaces[0].ns == "third");
  CHECK_FALSE(rest.next);
  // A delete counts at once.
  REQUIRE(api(registry, command(api_op::remove, {"third", "a"}, owner_key, "{}", "")).status == 204);
  cmd.after_ns = std::nullopt;
  cmd.limit = 10;
  CHECK(std::get<namespace_page>(call<api_result>(registry, cmd).body).namespaces.size() == 2);
}

TEST_CASE_METHOD(actor_fixture, "an operator's disable stops the registration with reason ADMIN, stored before the "
                                "answer", "[registry][admin]") {
  client->answer_all(200, R"({"activationId":"a1"})");
  auto registry = spawn_registry();
  trigger_ref trigger{"guest", "t"};
  REQUIRE(create(*this, registry, trigger, owner_key, R"({"seconds": 1})").status == 201);
  advance(2500ms);
  auto fired = client->calls().size();
  REQUIRE(fired >= 2);
  auto disabled = admin(*this, registry, admin_on(admin_op::disable, trigger, "abuse report 17"));
  CHECK(disabled.status == 200);
  CHECK(json_string_at(disabled.body, "status.state") == "disabled");
  CHECK(json_string_at(disabled.body, "status.reason.kind") == "ADMIN");
  CHECK(json_string_at(disabled.body, "status.reason.message") == "abuse report 17");
  auto stored = stored_reason(*journal, trigger);
  REQUIRE(stored);
  CHECK(stored->kind == reason_kind::admin);
  CHECK(stored->message == "abuse report 17");
  advance(5s);
  CHECK(client->calls().size() == fired);
  // Without a message the reason says who did it.
  auto again = admin(*this, registry, admin_on(admin_op::disable, trigger));
  CHECK(json_string_at(again.body, "status.reason.message") == "disabled by an administrator");
}

TEST_CASE_METHOD(actor_fixture, "the owner cannot lift an ADMIN disable: UNPAUSE, PAUSE, UPDATE and a replacing "
                                "CREATE get 409 naming the reason, READ shows it, DELETE works", "[registry][admin]") {
  auto registry = spawn_registry();
  trigger_ref trigger{"guest", "t"};
  REQUIRE(create(*this, registry, trigger).status == 201);
  REQUIRE(admin(*this, registry, admin_on(admin_op::disable, trigger, "abuse")).status == 200);
  auto before = journal->ops_for(trigger).size();
  for (auto op : {api_op::resume, api_op::pause, api_op::update, api_op::create}) {
    auto refused = api(registry, command(op, trigger, owner_key, R"({"minutes": 7})"));
    CHECK(refused.status == 409);
    CHECK(json_string_at(refused.body, "field") == "state");
    CHECK_THAT(json_string_at(refused.body, "error").value_or(""),
               Catch::Contains("ADMIN") && Catch::Contains("abuse") && Catch::Contains("administrator"));
  }
  CHECK(journal->ops_for(trigger).size() == before);
  auto read = api(registry, command(api_op::read, trigger, owner_key, "{}", ""));
  CHECK(json_string_at(read.body, "status.state") == "disabled");
  CHECK(json_string_at(read.body, "status.reason.kind") == "ADMIN");
  CHECK(json_int_at(read.body, "config.minutes") == 5);
  auto listed = api(registry, command(api_op::list, {"guest", ""}, owner_key, "{}", ""));
  CHECK_THAT(listed.body, Catch::Contains(R"("kind":"ADMIN")"));
  CHECK(api(registry, command(api_op::remove, trigger, owner_key, "{}", "")).status == 204);
  CHECK(admin(*this, registry, admin_on(admin_op::read, trigger)).status == 404);
}

TEST_CASE_METHOD(actor_fixture, "an owner's resume that reaches the registration after an operator's disable leaves "
                                "it disabled", "[registry][admin]") {
  auto registry = spawn_registry();
  trigger_ref trigger{"guest", "t"};
  REQUIRE(create(*this, registry, trigger).status == 201);
  REQUIRE(api(registry, command(api_op::pause, trigger, owner_key, "{}", "")).status == 200);
  // Both arrive before the trigger has answered either: the registry's copy still says paused for the resume.
  auto disable = ask<api_result>(registry, admin_on(admin_op::disable, trigger, "abuse"));
  auto resume = ask_api(registry, command(api_op::resume, trigger, owner_key, "{}", ""));
  run();
  REQUIRE(disable->value);
  REQUIRE(resume->value);
  CHECK(reply_of(*disable->value).status == 200);
  CHECK(reply_of(*resume->value).status == 409);
  auto read = admin(*this, registry, admin_on(admin_op::read, trigger));
  CHECK(json_string_at(read.body, "status.state") == "disabled");
  CHECK(json_string_at(read.body, "status.reason.kind") == "ADMIN");
}

TEST_CASE_METHOD(actor_fixture, "an operator's enable makes the registration active again, and it fires",
                 "[registry][admin]") {
  client->answer_all(200, R"({"activationId":"a1"})");
  auto registry = spawn_registry();
  trigger_ref trigger{"guest", "t"};
  REQUIRE(create(*this, registry, trigger, owner_key, R"({"seconds": 1})").status == 201);
  REQUIRE(admin(*this, registry, admin_on(admin_op::disable, trigger)).status == 200);
  auto fired = client->calls().size();
  auto enabled = admin(*this, registry, admin_on(admin_op::enable, trigger));
  CHECK(enabled.status == 200);
  CHECK(json_string_at(enabled.body, "status.state") == "active");
  CHECK_FALSE(json_at(enabled.body, "status.reason"));
  CHECK(stored_reason(*journal, trigger)->kind == reason_kind::none);
  advance(2500ms);
  CHECK(client->calls().size() > fired);
  // The owner's own requests work again.
  CHECK(api(registry, command(api_op::pause, trigger, owner_key, "{}", "")).status == 200);
  auto exposition = stats->render();
  CHECK_THAT(exposition, Catch::Contains("feedrouter_admin_actions_total{action=\"disable\"} 1\n")
                           && Catch::Contains("feedrouter_admin_actions_total{action=\"enable\"} 1\n"));
}

TEST_CASE_METHOD(actor_fixture, "a registration stored disabled ADMIN starts disabled, and its owner cannot resume it",
                 "[registry][admin]") {
  client->answer_all(200, R"({"activationId":"a1"})");
  trigger_ref trigger{"guest", "t"};
  auto record = make_record(trigger, R"({"seconds": 1})", now());
  record.status.state = registration_state::disabled;
  record.status.reason = {reason_kind::admin, 0, "abuse"};
  auto registry = spawn_registry({record});
  advance(3s);
  CHECK(client->calls().empty());
  auto refused = api(registry, command(api_op::resume, trigger, owner_key, "{}", ""));
  CHECK(refused.status == 409);
  CHECK(admin(*this, registry, admin_on(admin_op::enable, trigger)).status == 200);
  advance(2500ms);
  CHECK_FALSE(client->calls().empty());
}

TEST_CASE_METHOD(actor_fixture, "an operator's request for a registration that does not exist is 404",
                 "[registry][admin]") {
  auto registry = spawn_registry();
  for (auto op : {admin_op::read, admin_op::disable, admin_op::enable}) {
    auto missing = admin(*this, registry, admin_on(op, {"guest", "none"}));
    CHECK(missing.status == 404);
    CHECK(json_string_at(missing.body, "field") == "trigger");
  }
}

TEST_CASE_METHOD(actor_fixture, "a registration disabled ADMIN whose trigger actor fails stays disabled ADMIN, in "
                                "memory and in the store", "[registry][admin]") {
  // The store is reached through a stand-in that tells which actor stores a status: the registration's trigger.
  auto writers = std::make_shared<std::vector<caf::actor>>();
  auto real_store = caf::actor_cast<caf::actor>(store);
  auto proxy = sys.spawn([real_store, writers](caf::event_based_actor* self) -> caf::behavior {
    self->set_default_handler(
      [real_store, writers](caf::scheduled_actor* s, caf::message_view& x) -> caf::result<caf::message> {
        auto msg = x.move_content_to_message();
        if (msg.match_element<caf::atom_value>(0) && msg.get_as<caf::atom_value>(0) == status_atom::value)
          writers->push_back(caf::actor_cast<caf::actor>(s->current_sender()));
        s->delegate(real_store, std::move(msg));
        return caf::message{};
      });
    return {
      [](ready_atom) {
        // nop: everything else is forwarded by the default handler
      },
    };
  });
  stop_at_teardown(proxy);
  env->store = caf::actor_cast<store_actor>(proxy);
  auto registry = spawn_registry();
  trigger_ref trigger{"guest", "t"};
  REQUIRE(create(*this, registry, trigger).status == 201);
  REQUIRE(admin(*this, registry, admin_on(admin_op::disable, trigger, "abuse")).status == 200);
  REQUIRE_FALSE(writers->empty());
  // The trigger actor fails (only a bug of ours could make it).
  caf::anon_send(writers->back(), caf::make_error(caf::sec::runtime_error, std::string{"trigger bug"}));
  run();
  auto read = admin(*this, registry, admin_on(admin_op::read, trigger));
  CHECK(json_string_at(read.body, "status.reason.kind") == "ADMIN");
  CHECK(json_string_at(read.body, "status.reason.message") == "abuse");
  CHECK(api(registry, command(api_op::resume, trigger, owner_key, "{}", "")).status == 409);
  auto stored = stored_reason(*journal, trigger);
  REQUIRE(stored);
  CHECK(stored->kind == reason_kind::admin);
}

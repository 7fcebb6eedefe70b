#include <catch2/catch.hpp>

#include <caf/send.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "actors/firer.hpp"
#include "printers.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

/// One `(fired_atom, id, http_outcome)` as the parent received it.
struct fired_report {
  std::uint64_t id;
  http_outcome outcome;
};

std::vector<fired_report> fired(const parent_log& log) {
  std::vector<fired_report> result;
  for (auto i : log.find(fired_atom::value))
    result.push_back({log.messages[i].get_as<std::uint64_t>(1), log.messages[i].get_as<http_outcome>(2)});
  return result;
}

caf::actor spawn_firer_under(actor_fixture& f, const parent_log_ptr& log, trigger_ref trigger) {
  f.spawn_parent(log, [env = trigger_env_ptr{f.env}, trigger](caf::event_based_actor* self) {
    return spawn_firer(self, env, trigger, owner_key);
  });
  return log->child;
}

void fire(const caf::actor& firer, std::uint64_t id, std::string body) {
  caf::anon_send(firer, fire_atom::value, id, std::move(body));
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "a firer posts the body to the trigger's URL with the owner's Basic auth",
                 "[firer]") {
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, {"guest", "t1"});
  fire(firer, 7, R"({"a":1})");
  run();
  REQUIRE(client->calls().size() == 1);
  const auto& req = client->calls()[0].request;
  CHECK(req.destination.scheme == "http");
  CHECK(req.destination.host == "controller.test");
  CHECK(req.destination.port == 3233);
  CHECK(req.destination.target == "/api/v1/namespaces/guest/triggers/t1");
  CHECK(req.message.method == "POST");
  CHECK(req.message.field("Authorization") == owner_authorization);
  CHECK(req.message.field("Content-Type") == "application/json");
  CHECK(req.message.body == R"({"a":1})");
  CHECK(fired(*log).empty());
  client->answer(0, 202);
  run();
  auto reports = fired(*log);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].id == 7);
  CHECK(reports[0].outcome.status_code == 202);
  CHECK(reports[0].outcome.ok());
  CHECK(reports[0].outcome.error.empty());
}

TEST_CASE_METHOD(actor_fixture, "a firer percent-encodes the namespace and the trigger name in the URL", "[firer]") {
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, {"dev@example.com_ns", "my trigger"});
  fire(firer, 1, "{}");
  run();
  REQUIRE(client->calls().size() == 1);
  CHECK(client->calls()[0].request.destination.target
        == "/api/v1/namespaces/dev%40example.com_ns/triggers/my%20trigger");
}

TEST_CASE_METHOD(actor_fixture, "a firer sends one fire at a time in the order it got them", "[firer]") {
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, {"guest", "t1"});
  fire(firer, 1, R"({"n":1})");
  fire(firer, 2, R"({"n":2})");
  fire(firer, 3, R"({"n":3})");
  run();
  REQUIRE(client->calls().size() == 1);
  CHECK(client->calls()[0].request.message.body == R"({"n":1})");
  client->answer(0, 200);
  run();
  REQUIRE(client->calls().size() == 2);
  CHECK(client->calls()[1].request.message.body == R"({"n":2})");
  client->answer(1, 200);
  run();
  REQUIRE(client->calls().size() == 3);
  CHECK(client->calls()[2].request.message.body == R"({"n":3})");
  client->answer(2, 200);
  run();
  auto reports = fired(*log);
  REQUIRE(reports.size() == 3);
  CHECK(reports[0].id == 1);
  CHECK(reports[1].id == 2);
  CHECK(reports[2].id == 3);
}

TEST_CASE_METHOD(actor_fixture, "a firer reports an error status with the controller's text and a transport error "
                                "as status 0", "[firer]") {
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, {"guest", "t1"});
  fire(firer, 1, "{}");
  fire(firer, 2, "{}");
  run();
  client->answer(0, 503, R"({"error":"overloaded"})");
  run();
  client->fail(1, "connect: Connection refused");
  run();
  auto reports = fired(*log);
  REQUIRE(reports.size() == 2);
  CHECK(reports[0].outcome.status_code == 503);
  CHECK_FALSE(reports[0].outcome.ok());
  CHECK(reports[0].outcome.error == R"(HTTP 503: {"error":"overloaded"})");
  CHECK(reports[1].outcome.status_code == 0);
  CHECK(reports[1].outcome.error == "connect: Connection refused");
  CHECK(log->exits.empty()); // failures are values, not crashes
  CHECK_THAT(stats->render(), Catch::Contains("feedrouter_fires_total{outcome=\"failed\"} 2"));
}

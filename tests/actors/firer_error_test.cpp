#include <catch2/catch.hpp>

#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "firer_harness.hpp"
#include "printers.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref t1{"guest", "t1"};

} // namespace

TEST_CASE_METHOD(actor_fixture, "a fire that got no response is reported as status 0 with the transport error",
                 "[firer]") {
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, t1);
  fire(firer, 1, "{}");
  run();
  client->fail(0, "connect: Connection refused");
  run();
  auto reports = fired_reports(*log);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].outcome.status_code == 0);
  CHECK(reports[0].outcome.error == "connect: Connection refused");
  CHECK_FALSE(reports[0].outcome.retry_after);
}

TEST_CASE_METHOD(actor_fixture, "a firer keeps only the start of a long error body and ignores a malformed "
                                "Retry-After", "[firer]") {
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, t1);
  fire(firer, 1, "{}");
  run();
  client->answer(0, 500, std::string(1000, 'x'), {{"Retry-After", "soon"}});
  run();
  auto reports = fired_reports(*log);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].outcome.error == "HTTP 500: " + std::string(256, 'x'));
  CHECK_FALSE(reports[0].outcome.retry_after);
}

TEST_CASE_METHOD(actor_fixture, "the answer of a fire sent before its firer was released still reaches the listener",
                 "[firer]") {
  // Answers go from the HTTP completion to the listener directly, so a stopping registration can wait for them.
  auto log = std::make_shared<parent_log>();
  auto firer = spawn_firer_under(*this, log, t1);
  fire(firer, 1, "{}");
  run();
  caf::anon_send_exit(firer, caf::exit_reason::user_shutdown);
  run();
  client->answer(0, 202);
  run();
  auto reports = fired_reports(*log);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].id == 1);
}

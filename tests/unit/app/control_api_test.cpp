#include "app/control_api.hpp"

#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "tests/unit/app/route_requests.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

/// Answers GET /ready through `api` and returns the response.
http_response ready(control_api& api) {
  http_response answer;
  api.handle(anonymous("GET", "/ready"), [&answer](http_response res) { answer = std::move(res); });
  return answer;
}

} // namespace

TEST_CASE("/ready answers 503 until the stored registrations run, then 200 with the number running now",
          "[control_api]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto stats = std::make_shared<metrics>();
  // /ready is answered by the API itself; no registry is asked.
  control_api api{sys, registry_actor{}, stats, std::chrono::seconds{1}, std::make_shared<store_health>()};
  for (int i = 0; i < 3; ++i)
    stats->record_state_change("alarm", std::nullopt, registration_state::active);
  auto starting = ready(api);
  CHECK(starting.status == 503);
  CHECK(starting.body == R"({"ready":false,"registrations":3})");
  api.set_ready();
  // Registrations created and deleted after start-up count too.
  stats->record_state_change("webhook", std::nullopt, registration_state::paused);
  stats->record_state_change("alarm", registration_state::active, std::nullopt);
  stats->record_state_change("poll", std::nullopt, registration_state::disabled);
  auto running = ready(api);
  CHECK(running.status == 200);
  CHECK(running.body == R"({"ready":true,"registrations":4})");
}

TEST_CASE("/ready answers 503 naming the store once the store refuses writes", "[control_api]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto stats = std::make_shared<metrics>();
  auto health = std::make_shared<store_health>();
  control_api api{sys, registry_actor{}, stats, std::chrono::seconds{1}, health};
  api.set_ready();
  CHECK(ready(api).status == 200);
  health->mark_unwritable();
  auto refused = ready(api);
  CHECK(refused.status == 503);
  CHECK(refused.body.find(R"("ready":false)") != std::string::npos);
  CHECK(refused.body.find("its store refuses writes") != std::string::npos);
}

TEST_CASE("/metrics shows the memory budget for event bodies: held, limit and registrations waiting",
          "[control_api]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto budget = std::make_shared<byte_budget>(byte_budget::limits_for(64 * 1024));
  control_api api{sys, registry_actor{}, std::make_shared<metrics>(), std::chrono::seconds{1},
                  std::make_shared<store_health>(), feed_defaults{}, budget};
  byte_account account{budget, [] {}};
  REQUIRE(account.take(1000, byte_account::wait::no));
  http_request req;
  req.method = "GET";
  req.target = "/metrics";
  http_response answer;
  api.handle(req, [&answer](http_response res) { answer = std::move(res); });
  CHECK(answer.status == 200);
  CHECK(answer.body.find("\nfeedrouter_buffered_bytes 1000\n") != std::string::npos);
  CHECK(answer.body.find("\nfeedrouter_buffered_bytes_limit 65536\n") != std::string::npos);
  CHECK(answer.body.find("\nfeedrouter_buffered_bytes_waiting 0\n") != std::string::npos);
}

// The control API's side of the admin routes: there only with an admin key, 401 before anything else, and the same
// 503s as the lifecycle routes. What the routes do is tested on the registry (tests/actors/registry_admin_test.cpp)
// and end to end (tests/e2e/admin_test.cpp).

#include "app/control_api.hpp"

#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "tests/unit/app/route_requests.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

constexpr std::string_view admin_key = "k3y-for-tests";

http_response answer(control_api& api, http_request req) {
  http_response res;
  api.handle(std::move(req), [&res](http_response x) { res = std::move(x); });
  return res;
}

http_request admin_request(std::string method, std::string target, std::string_view key = admin_key) {
  auto req = anonymous(std::move(method), std::move(target));
  req.fields.emplace_back("Authorization", "Bearer " + std::string{key});
  return req;
}

} // namespace

TEST_CASE("without an admin key the admin routes are unknown routes, whatever the request carries",
          "[control_api][admin]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  control_api api{sys, registry_actor{}, std::make_shared<metrics>(), std::chrono::seconds{1},
                  std::make_shared<store_health>()};
  api.set_ready();
  auto unknown = answer(api, admin_request("GET", "/v1/nothing"));
  for (const auto& key : {std::string_view{}, admin_key}) {
    auto res = answer(api, admin_request("GET", "/v1/admin/triggers", key));
    CHECK(res.status == 404);
    CHECK(res.body == unknown.body);
  }
}

TEST_CASE("with an admin key, a request without it is 401 even while starting, with it, 503 until ready and for a "
          "change while the store refuses writes", "[control_api][admin]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto health = std::make_shared<store_health>();
  control_api api{sys,    registry_actor{}, std::make_shared<metrics>(), std::chrono::seconds{1},
                  health, feed_defaults{},  nullptr,
                  std::string{admin_key}};
  CHECK(answer(api, admin_request("GET", "/v1/admin/triggers", "wrong")).status == 401);
  CHECK(answer(api, admin_request("GET", "/v1/admin/triggers")).status == 503);
  api.set_ready();
  health->mark_unwritable();
  auto refused = answer(api, admin_request("POST", "/v1/admin/triggers/guest/t/disable"));
  CHECK(refused.status == 503);
  CHECK(refused.body.find("refuses writes") != std::string::npos);
  CHECK(answer(api, admin_request("POST", "/v1/admin/triggers/guest/t/enable")).status == 503);
  // The lifecycle routes are where they were.
  CHECK(answer(api, anonymous("GET", "/v1/triggers/guest")).status == 401);
}

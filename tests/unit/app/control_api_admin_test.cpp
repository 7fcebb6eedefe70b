// The control API's side of the admin routes: there only with an admin key, 401 before anything else, and the same
// 503s as the lifecycle routes. What the routes do is tested on the registry (tests/actors/registry_admin_test.cpp)
// and end to end (tests/e2e/admin_test.cpp).

#include "app/control_api.hpp"

#include <future>
#include <memory>

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

namespace {

/// Returns the answer of `api` to `req` once it came (GET /v1/cluster is answered by actors).
http_response answer_later(control_api& api, http_request req) {
  auto promise = std::make_shared<std::promise<http_response>>();
  auto answered = promise->get_future();
  api.handle(std::move(req), [promise](http_response x) { promise->set_value(std::move(x)); });
  REQUIRE(answered.wait_for(std::chrono::seconds{30}) == std::future_status::ready);
  return answered.get();
}

/// The API of one instance (no cluster) answering GET /v1/cluster, with `admin_key` if any; any well-formed tenant key
/// is valid (--no-verify-auth).
struct cluster_info_api {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::unique_ptr<control_api> api;

  explicit cluster_info_api(std::string admin) {
    auto stats = std::make_shared<metrics>();
    cluster_info_config info;
    info.self_id = "0123456789abcdef";
    info.url = "http://10.0.0.12:8080";
    info.stats = stats;
    api = std::make_unique<control_api>(sys, registry_actor{}, stats, std::chrono::seconds{1},
                                        std::make_shared<store_health>(), feed_defaults{}, nullptr, std::move(admin),
                                        spawn_cluster_info(sys, std::move(info)), std::nullopt);
    api->set_ready();
  }
};

} // namespace

TEST_CASE("with an admin key GET /v1/cluster is the operators' alone and shows the instances' URLs, without one any "
          "valid key sees counts and ids only", "[control_api][admin][cluster]") {
  SECTION("with an admin key") {
    cluster_info_api with{std::string{admin_key}};
    for (auto req : {request("GET", "/v1/cluster"), admin_request("GET", "/v1/cluster", "wrong"),
                     anonymous("GET", "/v1/cluster")}) {
      auto refused = answer_later(*with.api, req);
      CHECK(refused.status == 401);
      CHECK(refused.field("WWW-Authenticate") == R"(Bearer realm="feedrouter-admin")");
      CHECK(refused.body.find("10.0.0.12") == std::string::npos);
    }
    auto shown = answer_later(*with.api, admin_request("GET", "/v1/cluster"));
    INFO(shown.body);
    CHECK(shown.status == 200);
    CHECK_THAT(shown.body, Catch::Contains(R"("id":"0123456789abcdef","url":"http://10.0.0.12:8080")"));
    CHECK_THAT(shown.body, Catch::Contains(R"("mode":"single")"));
  }
  SECTION("without an admin key") {
    cluster_info_api without{{}};
    CHECK(answer_later(*without.api, anonymous("GET", "/v1/cluster")).status == 401);
    // A Bearer key is no tenant's key.
    CHECK(answer_later(*without.api, admin_request("GET", "/v1/cluster")).status == 401);
    auto shown = answer_later(*without.api, request("GET", "/v1/cluster"));
    INFO(shown.body);
    CHECK(shown.status == 200);
    CHECK_THAT(shown.body, Catch::Contains(R"("id":"0123456789abcdef","live":true)"));
    CHECK(shown.body.find("10.0.0.12") == std::string::npos);
  }
}

#include "tests/support/fake_controller.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "core/time_format.hpp"
#include "core/url.hpp"
#include "net/http_client.hpp"
#include "net/http_message.hpp"
#include "net/io_runtime.hpp"

using namespace feedrouter;
using namespace std::chrono_literals;

namespace {

/// How long one exchange with the fake may take before the test fails.
constexpr auto exchange_timeout = 5s;

/// How long a test waits for a future beyond the client's own timeout, which always answers first.
constexpr auto future_margin = 5s;

constexpr std::string_view alice_key = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:alice-secret";
constexpr std::string_view bob_key = "9f3e7a10-5a0c-4f55-9b1e-0e2f6c4d8a11:bob-secret";

/// Returns `text` in standard base64 with padding, as a client builds a Basic Authorization header.
std::string base64_encode(std::string_view text) {
  constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= text.size(); i += 3) {
    auto n = (std::uint32_t{static_cast<unsigned char>(text[i])} << 16)
             | (std::uint32_t{static_cast<unsigned char>(text[i + 1])} << 8)
             | std::uint32_t{static_cast<unsigned char>(text[i + 2])};
    out += digits[(n >> 18) & 63];
    out += digits[(n >> 12) & 63];
    out += digits[(n >> 6) & 63];
    out += digits[n & 63];
  }
  if (auto rest = text.size() - i; rest > 0) {
    auto n = std::uint32_t{static_cast<unsigned char>(text[i])} << 16;
    if (rest == 2)
      n |= std::uint32_t{static_cast<unsigned char>(text[i + 1])} << 8;
    out += digits[(n >> 18) & 63];
    out += digits[(n >> 12) & 63];
    out += rest == 2 ? digits[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string basic(std::string_view auth_key) {
  return "Basic " + base64_encode(auth_key);
}

/// Returns whether `id` looks like an OpenWhisk activation id: 32 lower-case hex digits.
bool is_activation_id(std::string_view id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

/// A running fake controller with alice owning "alice" (triggers "t" and the rule-less "quiet") and bob owning "bob",
/// plus a client to talk to it.
struct fixture {
  fixture() {
    controller.add_trigger(trigger_ref{"alice", "t"}, std::string{alice_key});
    controller.add_trigger(trigger_ref{"alice", "quiet"}, std::string{alice_key}, false);
    controller.add_trigger(trigger_ref{"bob", "t"}, std::string{bob_key});
  }

  /// Sends one request through `through` and returns the future of its result.
  std::future<client_result> send(const http_client_ptr& through, std::string method, std::string target,
                                  std::string body = {}, std::string authorization = {}) {
    client_request req;
    req.destination = url{"http", "127.0.0.1", controller.port(), target};
    req.message.method = std::move(method);
    req.message.target = std::move(target);
    if (!authorization.empty())
      req.message.fields.emplace_back("Authorization", std::move(authorization));
    if (!body.empty())
      req.message.fields.emplace_back("Content-Type", "application/json");
    req.message.body = std::move(body);
    req.timeout = exchange_timeout;
    // Shared with the completion, which may outlive this frame when the test fails first.
    auto promise = std::make_shared<std::promise<client_result>>();
    auto result = promise->get_future();
    through->send(std::move(req), [promise](client_result res) { promise->set_value(std::move(res)); });
    return result;
  }

  /// Waits for the result of `sent`, which may be a transport error; fails the test when none comes.
  static client_result outcome_of(std::future<client_result>& sent) {
    REQUIRE(sent.wait_for(exchange_timeout + future_margin) == std::future_status::ready);
    return sent.get();
  }

  /// Sends one request and returns its answer; fails the test on a transport error or when no answer comes.
  client_result exchange(std::string method, std::string target, std::string body = {},
                         std::string authorization = {}) {
    auto sent = send(client, std::move(method), std::move(target), std::move(body), std::move(authorization));
    auto res = outcome_of(sent);
    INFO("transport error: " << res.error);
    REQUIRE(res.ok());
    return res;
  }

  static std::string fire_target(std::string_view ns, std::string_view name) {
    return "/api/v1/namespaces/" + percent_encode(ns) + "/triggers/" + percent_encode(name);
  }

  client_result fire(std::string_view ns, std::string_view name, std::string body,
                     std::string_view auth_key = alice_key) {
    return exchange("POST", fire_target(ns, name), std::move(body), basic(auth_key));
  }

  /// Fires alice's trigger through a client of its own and returns the result, which may be a transport error. The
  /// connection is a fresh one, so the client's one retry of a kept-alive connection that closed stays out of it.
  client_result fire_fresh(std::string_view name) {
    auto own = make_http_client(io);
    auto sent = send(own, "POST", fire_target("alice", name), "{}", basic(alice_key));
    return outcome_of(sent);
  }

  io_runtime io{2};
  fake_controller controller{io};
  http_client_ptr client = make_http_client(io);
  simdjson::dom::parser parser;
};

} // namespace

TEST_CASE("the fake controller listens on a free loopback port", "[fake_controller]") {
  fixture f;
  CHECK(f.controller.port() != 0);
  CHECK(f.controller.url() == "http://127.0.0.1:" + std::to_string(f.controller.port()));
}

TEST_CASE("a fire with the owner's key is answered 202 with an activation id and recorded", "[fake_controller]") {
  fixture f;
  auto res = f.fire("alice", "t", R"({"n": 1})");
  REQUIRE(res.response.status == 202);
  simdjson::dom::element doc = f.parser.parse(res.response.body);
  CHECK(is_activation_id(std::string_view(doc["activationId"])));
  REQUIRE(f.controller.fire_count() == 1);
  auto fires = f.controller.fires();
  REQUIRE(fires.size() == 1);
  CHECK(fires[0].trigger == trigger_ref{"alice", "t"});
  CHECK(fires[0].authorization == basic(alice_key));
  CHECK(fires[0].body == R"({"n": 1})");
  CHECK(fires[0].received_at.time_since_epoch().count() > 0);
}

TEST_CASE("activation ids are unique", "[fake_controller]") {
  fixture f;
  constexpr int fires = 20;
  std::set<std::string> ids;
  for (int i = 0; i < fires; ++i) {
    auto res = f.fire("alice", "t", "{}");
    REQUIRE(res.response.status == 202);
    simdjson::dom::element doc = f.parser.parse(res.response.body);
    ids.emplace(std::string_view(doc["activationId"]));
  }
  CHECK(ids.size() == fires);
}

TEST_CASE("a fire for a trigger without a rule is answered 204 and recorded", "[fake_controller]") {
  fixture f;
  auto res = f.fire("alice", "quiet", "{}");
  CHECK(res.response.status == 204);
  CHECK(res.response.body.empty());
  CHECK(f.controller.fire_count() == 1);
}

TEST_CASE("a fire with an empty body is recorded as an empty object", "[fake_controller]") {
  fixture f;
  auto res = f.fire("alice", "t", "");
  CHECK(res.response.status == 202);
  REQUIRE(f.controller.fire_count() == 1);
  CHECK(f.controller.fires()[0].body == "{}");
}

TEST_CASE("a fire whose body is not a JSON object is answered 400 and not recorded", "[fake_controller]") {
  fixture f;
  auto body = GENERATE(as<std::string>{}, "not json", "[1, 2]", "42", R"({"open": )");
  auto res = f.fire("alice", "t", body);
  CHECK(res.response.status == 400);
  simdjson::dom::element doc = f.parser.parse(res.response.body);
  CHECK(std::string_view(doc["error"]) == "The request content was malformed");
  CHECK(f.controller.fire_count() == 0);
}

TEST_CASE("a fire with a wrong or missing key is answered 401 and not recorded", "[fake_controller]") {
  fixture f;
  SECTION("wrong key") {
    auto res = f.fire("alice", "t", "{}", "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:wrong");
    CHECK(res.response.status == 401);
    simdjson::dom::element doc = f.parser.parse(res.response.body);
    CHECK(std::string_view(doc["error"]).size() > 0);
  }
  SECTION("no Authorization header") {
    auto res = f.exchange("POST", "/api/v1/namespaces/alice/triggers/t", "{}");
    CHECK(res.response.status == 401);
  }
  SECTION("not base64") {
    auto res = f.exchange("POST", "/api/v1/namespaces/alice/triggers/t", "{}", "Basic !!!");
    CHECK(res.response.status == 401);
  }
  CHECK(f.controller.fire_count() == 0);
}

TEST_CASE("a fire with another namespace's key is answered 403", "[fake_controller]") {
  fixture f;
  auto res = f.fire("alice", "t", "{}", bob_key);
  CHECK(res.response.status == 403);
  CHECK(f.controller.fire_count() == 0);
}

TEST_CASE("a fire for an unknown trigger is answered 404", "[fake_controller]") {
  fixture f;
  auto res = f.fire("alice", "nope", "{}");
  CHECK(res.response.status == 404);
  simdjson::dom::element doc = f.parser.parse(res.response.body);
  CHECK(std::string_view(doc["error"]).size() > 0);
  CHECK(f.controller.fire_count() == 0);
}

TEST_CASE("a removed trigger answers later fires with 404", "[fake_controller]") {
  fixture f;
  f.controller.remove_trigger(trigger_ref{"alice", "t"});
  CHECK(f.fire("alice", "t", "{}").response.status == 404);
}

TEST_CASE("the default namespace _ resolves to the key's namespace", "[fake_controller]") {
  fixture f;
  auto res = f.fire("_", "t", "{}", bob_key);
  CHECK(res.response.status == 202);
  REQUIRE(f.controller.fire_count() == 1);
  CHECK(f.controller.fires()[0].trigger == trigger_ref{"bob", "t"});
}

TEST_CASE("trigger names in the path are percent-decoded", "[fake_controller]") {
  fixture f;
  f.controller.add_trigger(trigger_ref{"alice", "my trigger"}, std::string{alice_key});
  auto res = f.fire("alice", "my trigger", "{}");
  CHECK(res.response.status == 202);
  REQUIRE(f.controller.fire_count() == 1);
  CHECK(f.controller.fires()[0].trigger.name == "my trigger");
}

TEST_CASE("getting a trigger verifies the key as the controller does", "[fake_controller]") {
  fixture f;
  SECTION("the owner gets the trigger") {
    auto res = f.exchange("GET", "/api/v1/namespaces/alice/triggers/t", {}, basic(alice_key));
    REQUIRE(res.response.status == 200);
    simdjson::dom::element doc = f.parser.parse(res.response.body);
    CHECK(std::string_view(doc["namespace"]) == "alice");
    CHECK(std::string_view(doc["name"]) == "t");
    CHECK(simdjson::dom::object(doc["rules"]).size() == 1);
  }
  SECTION("a trigger without a rule shows no rules") {
    auto res = f.exchange("GET", "/api/v1/namespaces/alice/triggers/quiet", {}, basic(alice_key));
    REQUIRE(res.response.status == 200);
    simdjson::dom::element doc = f.parser.parse(res.response.body);
    CHECK(simdjson::dom::object(doc["rules"]).size() == 0);
  }
  SECTION("a wrong key gets 401") {
    auto res = f.exchange("GET", "/api/v1/namespaces/alice/triggers/t", {}, basic("x:y"));
    CHECK(res.response.status == 401);
  }
  SECTION("another namespace's key gets 403") {
    auto res = f.exchange("GET", "/api/v1/namespaces/alice/triggers/t", {}, basic(bob_key));
    CHECK(res.response.status == 403);
  }
  SECTION("an unknown trigger gets 404") {
    auto res = f.exchange("GET", "/api/v1/namespaces/alice/triggers/nope", {}, basic(alice_key));
    CHECK(res.response.status == 404);
  }
  CHECK(f.controller.fire_count() == 0);
}

TEST_CASE("listing namespaces returns the key's namespaces", "[fake_controller]") {
  fixture f;
  f.controller.add_trigger(trigger_ref{"alice2", "t"}, std::string{alice_key});
  auto res = f.exchange("GET", "/api/v1/namespaces", {}, basic(alice_key));
  REQUIRE(res.response.status == 200);
  simdjson::dom::array list = f.parser.parse(res.response.body);
  std::set<std::string> names;
  for (auto ns : list)
    names.emplace(std::string_view(ns));
  CHECK(names == std::set<std::string>{"alice", "alice2"});
  CHECK(f.exchange("GET", "/api/v1/namespaces", {}, basic("x:y")).response.status == 401);
}

TEST_CASE("admin routes create and delete triggers", "[fake_controller]") {
  fixture f;
  auto created = f.exchange("PUT", "/_fake/triggers/carol/t%20one", R"({"authKey": "c:k", "rule": false})");
  REQUIRE(created.response.status == 201);
  CHECK(f.fire("carol", "t one", "{}", "c:k").response.status == 204);
  CHECK(f.exchange("DELETE", "/_fake/triggers/carol/t%20one").response.status == 204);
  CHECK(f.fire("carol", "t one", "{}", "c:k").response.status == 404);
  CHECK(f.exchange("DELETE", "/_fake/triggers/carol/t%20one").response.status == 404);
}

TEST_CASE("admin routes reject a trigger without an auth key", "[fake_controller]") {
  fixture f;
  auto body = GENERATE(as<std::string>{}, "", "[]", R"({"rule": true})", R"({"authKey": 1})",
                       R"({"authKey": "c:k", "rule": "yes"})");
  auto res = f.exchange("PUT", "/_fake/triggers/carol/t", body);
  CHECK(res.response.status == 400);
}

TEST_CASE("admin routes list and forget recorded fires", "[fake_controller]") {
  fixture f;
  REQUIRE(f.fire("alice", "t", R"({"s": "a\"b"})").response.status == 202);
  REQUIRE(f.fire("bob", "t", "", bob_key).response.status == 202);
  auto listed = f.exchange("GET", "/_fake/fires");
  REQUIRE(listed.response.status == 200);
  simdjson::dom::element doc = f.parser.parse(listed.response.body);
  CHECK(uint64_t(doc["count"]) == 2);
  simdjson::dom::array fires = doc["fires"];
  REQUIRE(fires.size() == 2);
  auto first = fires.at(0);
  CHECK(std::string_view(first["namespace"]) == "alice");
  CHECK(std::string_view(first["trigger"]) == "t");
  CHECK(std::string_view(first["authorization"]) == basic(alice_key));
  CHECK(std::string_view(first["body"]["s"]) == "a\"b");
  CHECK(std::string_view(first["receivedAt"]).back() == 'Z');
  CHECK(simdjson::dom::object(fires.at(1)["body"]).size() == 0);

  auto counted = f.exchange("GET", "/_fake/fires/count");
  REQUIRE(counted.response.status == 200);
  CHECK(uint64_t(f.parser.parse(counted.response.body)["count"]) == 2);

  CHECK(f.exchange("DELETE", "/_fake/fires").response.status == 204);
  CHECK(f.controller.fire_count() == 0);
  CHECK(f.controller.fires().empty());
}

TEST_CASE("clear_fires forgets recorded fires", "[fake_controller]") {
  fixture f;
  REQUIRE(f.fire("alice", "t", "{}").response.status == 202);
  f.controller.clear_fires();
  CHECK(f.controller.fire_count() == 0);
  CHECK(f.controller.fires().empty());
}

TEST_CASE("unknown routes are answered 404 with a JSON error", "[fake_controller]") {
  fixture f;
  auto target = GENERATE(as<std::string>{}, "/", "/nope", "/api/v1/namespaces/alice/actions/a",
                         "/api/v1/namespaces/alice/triggers/t/extra", "/_fake/nope");
  auto res = f.exchange("GET", target, {}, basic(alice_key));
  CHECK(res.response.status == 404);
  CHECK(res.response.field("Content-Type") == "application/json");
  simdjson::dom::element doc = f.parser.parse(res.response.body);
  CHECK(std::string_view(doc["error"]).size() > 0);
}

TEST_CASE("a known route with another method is answered 405", "[fake_controller]") {
  fixture f;
  auto res = f.exchange("PUT", "/api/v1/namespaces/alice/triggers/t", {}, basic(alice_key));
  CHECK(res.response.status == 405);
  CHECK(f.controller.fire_count() == 0);
}

TEST_CASE("wait_for_fires wakes on a fire", "[fake_controller]") {
  fixture f;
  // Far longer than the exchange takes: a waiter that only checks at its deadline would return late.
  constexpr auto wait_limit = 60s;
  auto started = std::chrono::steady_clock::now();
  auto waited = std::async(std::launch::async, [&f, wait_limit] { return f.controller.wait_for_fires(1, wait_limit); });
  REQUIRE(f.fire("alice", "t", "{}").response.status == 202);
  REQUIRE(waited.wait_for(wait_limit + future_margin) == std::future_status::ready);
  CHECK(waited.get());
  CHECK(std::chrono::steady_clock::now() - started < wait_limit / 2);
}

TEST_CASE("wait_for_fires returns false when the timeout passes first", "[fake_controller]") {
  fixture f;
  CHECK_FALSE(f.controller.wait_for_fires(1, 1ms));
  CHECK(f.controller.wait_for_fires(0, 0ms));
}

TEST_CASE("stop is idempotent", "[fake_controller]") {
  fixture f;
  f.controller.stop();
  f.controller.stop();
}

// -- faults -------------------------------------------------------------------

namespace {

using answer = fake_controller::scripted_answer;

const trigger_ref alice_t{"alice", "t"};

/// Returns the "error" text of a JSON error body, or an empty string when there is none.
std::string error_of(simdjson::dom::parser& parser, const std::string& body) {
  std::string_view text;
  if (parser.parse(body)["error"].get(text) != simdjson::SUCCESS)
    return {};
  return std::string{text};
}

} // namespace

TEST_CASE("scripted answers are given in order, then fires are answered as usual again", "[fake_controller]") {
  fixture f;
  f.controller.script(alice_t, {answer::with_status(429, "1"), answer::with_status(503), answer::with_status(413)});
  auto throttled = f.fire("alice", "t", "{}");
  CHECK(throttled.response.status == 429);
  CHECK(throttled.response.field("Retry-After") == "1");
  CHECK(throttled.response.field("Content-Type") == "application/json");
  CHECK_FALSE(error_of(f.parser, throttled.response.body).empty());
  auto unavailable = f.fire("alice", "t", "{}");
  CHECK(unavailable.response.status == 503);
  CHECK(unavailable.response.field("Retry-After").empty());
  CHECK(f.fire("alice", "t", "{}").response.status == 413);
  auto usual = f.fire("alice", "t", "{}");
  REQUIRE(usual.response.status == 202);
  simdjson::dom::element doc = f.parser.parse(usual.response.body);
  CHECK(is_activation_id(std::string_view(doc["activationId"])));
  CHECK(f.controller.attempt_count(alice_t) == 4);
  CHECK(f.controller.fire_count() == 1);
}

TEST_CASE("a scripted 2xx answer is recorded as a fire and a refusal is not", "[fake_controller]") {
  fixture f;
  f.controller.script(alice_t, {answer::with_status(202), answer::with_status(204), answer::with_status(500)});
  auto accepted = f.fire("alice", "t", R"({"n": 1})");
  REQUIRE(accepted.response.status == 202);
  simdjson::dom::element doc = f.parser.parse(accepted.response.body);
  CHECK(is_activation_id(std::string_view(doc["activationId"])));
  auto quiet = f.fire("alice", "t", R"({"n": 2})");
  CHECK(quiet.response.status == 204);
  CHECK(quiet.response.body.empty());
  CHECK(f.fire("alice", "t", R"({"n": 3})").response.status == 500);
  auto fires = f.controller.fires();
  REQUIRE(fires.size() == 2);
  CHECK(fires[0].body == R"({"n": 1})");
  CHECK(fires[1].body == R"({"n": 2})");
  CHECK(f.controller.attempt_count(alice_t) == 3);
}

TEST_CASE("a scripted body is sent as is, with the content type it parses as", "[fake_controller]") {
  fixture f;
  auto json = answer::with_status(503);
  json.body = R"({"error":"busy","code":"7"})";
  auto html = answer::with_status(502);
  html.body = "<html>bad gateway</html>";
  f.controller.script(alice_t, {json, html});
  auto first = f.fire("alice", "t", "{}");
  CHECK(first.response.status == 503);
  CHECK(first.response.body == json.body);
  CHECK(first.response.field("Content-Type") == "application/json");
  auto second = f.fire("alice", "t", "{}");
  CHECK(second.response.status == 502);
  CHECK(second.response.body == html.body);
  CHECK(second.response.field("Content-Type") == "text/plain");
}

TEST_CASE("a slow scripted answer comes after its delay", "[fake_controller]") {
  fixture f;
  constexpr auto delay = 200ms;
  f.controller.script(alice_t, {answer::after(delay, 202)});
  auto started = std::chrono::steady_clock::now();
  auto res = f.fire("alice", "t", "{}");
  auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(res.response.status == 202);
  CHECK(elapsed >= delay);
  // Accepted, though late: the controller fired the trigger.
  CHECK(f.controller.fire_count() == 1);
  CHECK(f.fire("alice", "t", "{}").response.status == 202);
}

TEST_CASE("a slow scripted answer holds up neither other fires nor stop", "[fake_controller]") {
  fixture f;
  // Far longer than the test takes: the slow answer must never be waited for.
  constexpr auto delay = 60s;
  f.controller.script(alice_t, {answer::after(delay, 503)});
  auto started = std::chrono::steady_clock::now();
  auto slow = f.send(f.client, "POST", fixture::fire_target("alice", "t"), "{}", basic(alice_key));
  REQUIRE(f.controller.wait_for_attempts(alice_t, 1, exchange_timeout));
  // On another connection of the pool, since the first one is busy.
  CHECK(f.fire("bob", "t", "{}", bob_key).response.status == 202);
  CHECK(slow.wait_for(0s) == std::future_status::timeout);
  f.controller.stop();
  // The connection closed with the server, and the answer that went out afterwards was dropped.
  auto res = fixture::outcome_of(slow);
  INFO("status " << res.response.status);
  CHECK_FALSE(res.ok());
  CHECK(std::chrono::steady_clock::now() - started < delay / 2);
}

TEST_CASE("a scripted reset closes the connection without an answer", "[fake_controller]") {
  fixture f;
  f.controller.script(alice_t, {answer::reset()});
  auto res = f.fire_fresh("t");
  INFO("transport error: " << res.error);
  CHECK_FALSE(res.ok());
  // A connection left open would end in the client's timeout instead.
  CHECK(res.error != "timeout");
  CHECK(f.controller.attempt_count(alice_t) == 1);
  CHECK(f.controller.fire_count() == 0);
  CHECK(f.fire("alice", "t", "{}").response.status == 202);
}

TEST_CASE("a hold answers every fire with its status and keeps the script for after the release",
          "[fake_controller]") {
  fixture f;
  f.controller.script(alice_t, {answer::with_status(429)});
  f.controller.hold(alice_t, 503);
  constexpr int held_fires = 3;
  for (int i = 0; i < held_fires; ++i)
    CHECK(f.fire("alice", "t", "{}").response.status == 503);
  // Another trigger is not held.
  CHECK(f.fire("bob", "t", "{}", bob_key).response.status == 202);
  f.controller.release(alice_t);
  CHECK(f.fire("alice", "t", "{}").response.status == 429);
  CHECK(f.fire("alice", "t", "{}").response.status == 202);
  CHECK(f.controller.attempt_count(alice_t) == held_fires + 2);
  CHECK(f.controller.fire_count() == 2);
  f.controller.release(alice_t);
}

TEST_CASE("fires refused by the usual checks are no attempts and consume no scripted answer", "[fake_controller]") {
  fixture f;
  f.controller.script(alice_t, {answer::with_status(503)});
  CHECK(f.fire("alice", "t", "{}", bob_key).response.status == 403);
  CHECK(f.fire("alice", "t", "{}", "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:wrong").response.status == 401);
  CHECK(f.fire("alice", "t", "not json").response.status == 400);
  CHECK(f.fire("alice", "nope", "{}").response.status == 404);
  CHECK(f.controller.attempt_count(alice_t) == 0);
  CHECK(f.fire("alice", "t", "{}").response.status == 503);
  CHECK(f.controller.attempt_count(alice_t) == 1);
}

TEST_CASE("a fire to _ uses the script of the trigger it resolves to", "[fake_controller]") {
  fixture f;
  f.controller.script(alice_t, {answer::with_status(503)});
  CHECK(f.fire("_", "t", "{}").response.status == 503);
  CHECK(f.controller.attempt_count(alice_t) == 1);
  CHECK(f.controller.attempt_count(trigger_ref{"_", "t"}) == 0);
}

TEST_CASE("a new script replaces the old one and an empty one clears it", "[fake_controller]") {
  fixture f;
  f.controller.script(alice_t, {answer::with_status(503), answer::with_status(503)});
  f.controller.script(alice_t, {answer::with_status(429)});
  CHECK(f.fire("alice", "t", "{}").response.status == 429);
  CHECK(f.fire("alice", "t", "{}").response.status == 202);
  f.controller.script(alice_t, {answer::with_status(503)});
  f.controller.script(alice_t, {});
  CHECK(f.fire("alice", "t", "{}").response.status == 202);
}

TEST_CASE("a replaced trigger keeps its script and a removed one loses it", "[fake_controller]") {
  fixture f;
  f.controller.script(alice_t, {answer::with_status(503), answer::with_status(503)});
  f.controller.add_trigger(alice_t, std::string{alice_key}, false);
  CHECK(f.fire("alice", "t", "{}").response.status == 503);
  f.controller.remove_trigger(alice_t);
  CHECK(f.controller.attempt_count(alice_t) == 0);
  f.controller.add_trigger(alice_t, std::string{alice_key});
  CHECK(f.fire("alice", "t", "{}").response.status == 202);
}

TEST_CASE("scripts and holds need an existing trigger", "[fake_controller]") {
  fixture f;
  trigger_ref unknown{"alice", "nope"};
  CHECK_THROWS_AS(f.controller.script(unknown, {answer::with_status(503)}), std::invalid_argument);
  CHECK_THROWS_AS(f.controller.hold(unknown, 503), std::invalid_argument);
  CHECK_NOTHROW(f.controller.release(unknown));
  CHECK(f.controller.attempt_count(unknown) == 0);
  CHECK(f.controller.attempt_times(unknown).empty());
}

TEST_CASE("attempt times are arrival times in order, and clear_fires forgets them", "[fake_controller]") {
  fixture f;
  f.controller.script(alice_t, {answer::with_status(503), answer::with_status(429)});
  auto before = now_ms();
  constexpr std::size_t fires = 3;
  for (std::size_t i = 0; i < fires; ++i)
    f.fire("alice", "t", "{}");
  auto after = now_ms();
  auto times = f.controller.attempt_times(alice_t);
  REQUIRE(times.size() == fires);
  CHECK(std::is_sorted(times.begin(), times.end()));
  CHECK(times.front() >= before);
  CHECK(times.back() <= after);
  CHECK(f.controller.attempt_times(trigger_ref{"bob", "t"}).empty());
  f.controller.clear_fires();
  CHECK(f.controller.attempt_count(alice_t) == 0);
}

TEST_CASE("wait_for_attempts wakes on an attempt that is no fire", "[fake_controller]") {
  fixture f;
  f.controller.script(alice_t, {answer::with_status(503)});
  // Far longer than the exchange takes: a waiter that only checks at its deadline would return late.
  constexpr auto wait_limit = 60s;
  auto started = std::chrono::steady_clock::now();
  auto waited = std::async(std::launch::async,
                           [&f, wait_limit] { return f.controller.wait_for_attempts(alice_t, 1, wait_limit); });
  REQUIRE(f.fire("alice", "t", "{}").response.status == 503);
  REQUIRE(waited.wait_for(wait_limit + future_margin) == std::future_status::ready);
  CHECK(waited.get());
  CHECK(std::chrono::steady_clock::now() - started < wait_limit / 2);
  CHECK_FALSE(f.controller.wait_for_attempts(alice_t, 2, 1ms));
  CHECK(f.controller.fire_count() == 0);
}

TEST_CASE("admin routes script answers", "[fake_controller]") {
  fixture f;
  constexpr auto delay = 200ms;
  auto script = R"({"answers": [{"status": 429, "retryAfter": "1"}, {"status": 503, "retryAfter": 120},
                                {"delayMs": )" + std::to_string(delay.count()) + R"(, "status": 202},
                                {"reset": true}, {"status": 413, "body": {"error": "too big"}}, {}]})";
  REQUIRE(f.exchange("PUT", "/_fake/triggers/alice/t/script", script).response.status == 204);
  auto throttled = f.fire("alice", "t", "{}");
  CHECK(throttled.response.status == 429);
  CHECK(throttled.response.field("Retry-After") == "1");
  auto unavailable = f.fire("alice", "t", "{}");
  CHECK(unavailable.response.status == 503);
  CHECK(unavailable.response.field("Retry-After") == "120");
  auto started = std::chrono::steady_clock::now();
  CHECK(f.fire("alice", "t", "{}").response.status == 202);
  CHECK(std::chrono::steady_clock::now() - started >= delay);
  CHECK_FALSE(f.fire_fresh("t").ok());
  auto too_large = f.fire("alice", "t", "{}");
  CHECK(too_large.response.status == 413);
  CHECK(too_large.response.body == R"({"error":"too big"})");
  // An empty answer is the default refusal.
  CHECK(f.fire("alice", "t", "{}").response.status == 503);
  CHECK(f.fire("alice", "t", "{}").response.status == 202);
  CHECK(f.controller.attempt_count(alice_t) == 7);
  CHECK(f.controller.fire_count() == 2);
}

TEST_CASE("admin routes hold, release and list attempts", "[fake_controller]") {
  fixture f;
  REQUIRE(f.exchange("PUT", "/_fake/triggers/alice/t/hold", R"({"status": 429})").response.status == 204);
  CHECK(f.fire("alice", "t", "{}").response.status == 429);
  // Without a body, the hold is at 503.
  REQUIRE(f.exchange("PUT", "/_fake/triggers/alice/t/hold").response.status == 204);
  CHECK(f.fire("alice", "t", "{}").response.status == 503);
  REQUIRE(f.exchange("DELETE", "/_fake/triggers/alice/t/hold").response.status == 204);
  CHECK(f.fire("alice", "t", "{}").response.status == 202);
  CHECK(f.exchange("DELETE", "/_fake/triggers/alice/t/hold").response.status == 204);

  auto listed = f.exchange("GET", "/_fake/triggers/alice/t/attempts");
  REQUIRE(listed.response.status == 200);
  simdjson::dom::element doc = f.parser.parse(listed.response.body);
  CHECK(uint64_t(doc["count"]) == 3);
  simdjson::dom::array times = doc["times"];
  REQUIRE(times.size() == 3);
  auto expected = f.controller.attempt_times(alice_t);
  std::size_t i = 0;
  for (auto t : times)
    CHECK(parse_iso8601(std::string_view(t)) == expected.at(i++));
}

TEST_CASE("admin fault routes reject a bad body and name the field", "[fake_controller]") {
  fixture f;
  auto [body, field] = GENERATE(table<std::string, std::string>({
    {"", ""},
    {"[]", ""},
    {"{}", "answers"},
    {R"({"answers": 1})", "answers"},
    {R"({"answers": [1]})", "answers[0]"},
    {R"({"answers": [{"status": 99}]})", "answers[0].status"},
    {R"({"answers": [{"status": 600}]})", "answers[0].status"},
    {R"({"answers": [{"status": "503"}]})", "answers[0].status"},
    {R"({"answers": [{}, {"delayMs": -1}]})", "answers[1].delayMs"},
    {R"({"answers": [{"delayMs": 600001}]})", "answers[0].delayMs"},
    {R"({"answers": [{"retryAfter": true}]})", "answers[0].retryAfter"},
    {R"({"answers": [{"reset": "yes"}]})", "answers[0].reset"},
    {R"({"answers": [{"reset": true, "status": 503}]})", "answers[0].reset"},
    {R"({"answers": [{"retry_after": "1"}]})", "answers[0].retry_after"},
  }));
  INFO("body: " << body);
  f.controller.script(alice_t, {answer::with_status(429)});
  auto res = f.exchange("PUT", "/_fake/triggers/alice/t/script", body);
  CHECK(res.response.status == 400);
  simdjson::dom::element doc = f.parser.parse(res.response.body);
  std::string_view named;
  if (doc["field"].get(named) != simdjson::SUCCESS)
    named = {};
  CHECK(named == field);
  // The earlier script stays.
  CHECK(f.fire("alice", "t", "{}").response.status == 429);
}

TEST_CASE("admin hold route rejects a bad status", "[fake_controller]") {
  fixture f;
  auto body = GENERATE(as<std::string>{}, "nope", R"({"status": 0})", R"({"status": "503"})");
  auto res = f.exchange("PUT", "/_fake/triggers/alice/t/hold", body);
  CHECK(res.response.status == 400);
  CHECK(f.fire("alice", "t", "{}").response.status == 202);
}

TEST_CASE("admin fault routes answer 404 for an unknown trigger and 405 for another method", "[fake_controller]") {
  fixture f;
  CHECK(f.exchange("PUT", "/_fake/triggers/alice/nope/script", R"({"answers": []})").response.status == 404);
  CHECK(f.exchange("PUT", "/_fake/triggers/alice/nope/hold").response.status == 404);
  CHECK(f.exchange("DELETE", "/_fake/triggers/alice/nope/hold").response.status == 404);
  CHECK(f.exchange("GET", "/_fake/triggers/alice/nope/attempts").response.status == 404);
  CHECK(f.exchange("GET", "/_fake/triggers/alice/t/script").response.status == 405);
  CHECK(f.exchange("POST", "/_fake/triggers/alice/t/hold").response.status == 405);
  CHECK(f.exchange("DELETE", "/_fake/triggers/alice/t/attempts").response.status == 405);
  CHECK(f.exchange("GET", "/_fake/triggers/alice/t/other").response.status == 404);
}

// -- rules, trigger deletion and the feed annotation (deleteAfterFire, import-openwhisk) ----------------------------

TEST_CASE("a trigger lists its rules by their fully qualified names and shows its feed annotation",
          "[fake_controller]") {
  fixture f;
  f.controller.add_rule(trigger_ref{"alice", "second rule"}, trigger_ref{"alice", "t"});
  f.controller.set_feed(trigger_ref{"alice", "t"}, "/whisk.system/alarms/alarm");
  auto res = f.exchange("GET", "/api/v1/namespaces/alice/triggers/t", {}, basic(alice_key));
  REQUIRE(res.response.status == 200);
  simdjson::dom::element doc = f.parser.parse(res.response.body);
  simdjson::dom::object rules = doc["rules"];
  CHECK(rules.size() == 2);
  CHECK(std::string_view(rules["alice/t-rule"]["status"]) == "active");
  CHECK(std::string_view(rules["alice/second rule"]["status"]) == "active");
  simdjson::dom::array annotations = doc["annotations"];
  REQUIRE(annotations.size() == 1);
  CHECK(std::string_view((*annotations.begin())["key"]) == "feed");
  CHECK(std::string_view((*annotations.begin())["value"]) == "/whisk.system/alarms/alarm");
  CHECK(f.controller.rules_of(trigger_ref{"alice", "t"})
        == std::vector<std::string>{"alice/second rule", "alice/t-rule"});
}

TEST_CASE("deleting rules and triggers takes the owner's key and is recorded in order", "[fake_controller]") {
  fixture f;
  CHECK(f.exchange("DELETE", "/api/v1/namespaces/alice/rules/t-rule", {}, basic(bob_key)).response.status == 403);
  CHECK(f.exchange("DELETE", "/api/v1/namespaces/alice/rules/t-rule", {}, basic(alice_key)).response.status == 200);
  CHECK(f.exchange("DELETE", "/api/v1/namespaces/alice/rules/t-rule", {}, basic(alice_key)).response.status == 404);
  // Without an active rule a fire is 204, as in OpenWhisk.
  CHECK(f.fire("alice", "t", "{}").response.status == 204);
  CHECK(f.exchange("DELETE", "/api/v1/namespaces/alice/triggers/t", {}, basic("x:y")).response.status == 401);
  auto deleted = f.exchange("DELETE", "/api/v1/namespaces/alice/triggers/t", {}, basic(alice_key));
  CHECK(deleted.response.status == 200);
  CHECK_FALSE(f.controller.has_trigger(trigger_ref{"alice", "t"}));
  CHECK(f.fire("alice", "t", "{}").response.status == 404);
  CHECK(f.exchange("DELETE", "/api/v1/namespaces/alice/triggers/t", {}, basic(alice_key)).response.status == 404);
  auto log = f.controller.deletions();
  REQUIRE(log.size() == 2);
  CHECK(log[0].kind == "rule");
  CHECK(log[0].entity == trigger_ref{"alice", "t-rule"});
  CHECK(log[1].kind == "trigger");
  CHECK(log[1].entity == trigger_ref{"alice", "t"});
  CHECK(log[1].authorization == basic(alice_key));
  auto listed = f.exchange("GET", "/_fake/deletions");
  simdjson::dom::element doc = f.parser.parse(listed.response.body);
  CHECK(simdjson::dom::array(doc["deletions"]).size() == 2);
}

TEST_CASE("a rule can be deactivated, and a trigger whose rules are all inactive answers fires 204",
          "[fake_controller]") {
  fixture f;
  auto res = f.exchange("POST", "/api/v1/namespaces/alice/rules/t-rule", R"({"status":"inactive"})", basic(alice_key));
  CHECK(res.response.status == 200);
  CHECK(f.fire("alice", "t", "{}").response.status == 204);
  CHECK(f.exchange("POST", "/api/v1/namespaces/alice/rules/t-rule", R"({"status":"x"})", basic(alice_key))
          .response.status
        == 400);
}

TEST_CASE("scripted answers to deletions come before the usual ones", "[fake_controller]") {
  fixture f;
  f.controller.script_deletions(trigger_ref{"alice", "t"}, {fake_controller::scripted_answer::with_status(503)});
  CHECK(f.exchange("DELETE", "/api/v1/namespaces/alice/triggers/t", {}, basic(alice_key)).response.status == 503);
  CHECK(f.controller.has_trigger(trigger_ref{"alice", "t"}));
  CHECK(f.exchange("DELETE", "/api/v1/namespaces/alice/triggers/t", {}, basic(alice_key)).response.status == 200);
}

TEST_CASE("admin routes add rules, feed annotations and deletion scripts", "[fake_controller]") {
  fixture f;
  auto body = R"({"authKey": "c:k", "rule": false, "feed": "/whisk.system/alarms/once"})";
  CHECK(f.exchange("PUT", "/_fake/triggers/carol/t", body).response.status == 201);
  CHECK(f.exchange("PUT", "/_fake/rules/carol/r1", R"({"trigger": "carol/t"})").response.status == 201);
  CHECK(f.exchange("PUT", "/_fake/rules/carol/r2", R"({"trigger": "carol/none"})").response.status == 404);
  auto shown = f.exchange("GET", "/_fake/triggers/carol/t");
  REQUIRE(shown.response.status == 200);
  CHECK(shown.response.body.find(R"("carol/r1")") != std::string::npos);
  CHECK(shown.response.body.find(R"("value":"/whisk.system/alarms/once")") != std::string::npos);
  CHECK(f.exchange("PUT", "/_fake/triggers/carol/t/deletion-script", R"({"answers":[{"status":500}]})")
          .response.status
        == 204);
  CHECK(f.exchange("DELETE", "/api/v1/namespaces/carol/triggers/t", {}, basic("c:k")).response.status == 500);
  CHECK(f.exchange("GET", "/_fake/triggers/carol/gone").response.status == 404);
}

// What the provider's HTTP server refuses and accepts, against the real process: requests hidden in a body
// (request smuggling), the JSON body of its own refusals, Expect: 100-continue, and Basic credentials after several
// spaces.

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/auth_key.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/unit/net/raw_http_client.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

/// Returns the port of `fr`, for a raw client.
std::uint16_t port_of(const feedrouter_process& fr) {
  const auto& url = fr.base_url();
  return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

/// Returns a DELETE of `trigger` by its owner, as raw bytes.
std::string raw_delete(const trigger_ref& trigger) {
  return "DELETE " + trigger_path(trigger) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
         + basic_authorization(alice_key) + "\r\n\r\n";
}

/// Creates a yearly alarm for `trigger`, so that nothing about it changes while a test runs.
void create_registration(e2e_fixture& fx, feedrouter_process& fr, const trigger_ref& trigger) {
  fx.controller().add_trigger(trigger, std::string{alice_key});
  REQUIRE(fr.call(api_request("PUT", trigger_path(trigger), alice_key, alarm_body(yearly, "{}"))).status == 201);
}

} // namespace

TEST_CASE("a DELETE hidden in the body of POST /health never runs, whatever the Transfer-Encoding", "[e2e]") {
  e2e_fixture fx;
  auto fr = fx.start_feedrouter();
  const trigger_ref trigger{"alice", "smuggled"};
  create_registration(fx, *fr, trigger);

  struct smuggling {
    std::string fields;
    int status;
  };
  const std::vector<smuggling> attempts = {
    {"Transfer-Encoding: gzip\r\n", 400},
    {"Transfer-Encoding: chunked, gzip\r\n", 400},
    {"Transfer-Encoding: xchunked\r\n", 400},
    {"Transfer-Encoding: gzip, chunked\r\n", 501},
    {"Transfer-Encoding: gzip\r\nContent-Length: 0\r\n", 400},
    {"Content-Length: 0\r\nTransfer-Encoding: gzip\r\n", 400},
    {"Transfer-Encoding:\r\n gzip\r\n", 400},
  };
  for (const auto& attempt : attempts) {
    INFO(attempt.fields);
    raw_http_client client{port_of(*fr)};
    client.send("POST /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + attempt.fields + "\r\n" + raw_delete(trigger));
    auto refused = client.read_response();
    REQUIRE(refused);
    CHECK(refused->status == attempt.status);
    CHECK(refused->field("Content-Type") == "application/json");
    CHECK(json_string_at(refused->body, "/field") != std::nullopt);
    // No second answer: the connection closes after the refusal, and the DELETE was never read as a request.
    CHECK(client.wait_closed());
    auto now = fr->call(api_request("GET", trigger_path(trigger), alice_key));
    INFO(now.body);
    REQUIRE(now.status == 200);
    CHECK(json_string_at(now.body, "/status/state") == "active");
  }
  CHECK(fr->call(api_request("GET", "/health")).status == 200);
  fr->stop_cleanly();
}

TEST_CASE("the provider's own refusals carry the API's JSON error body", "[e2e]") {
  e2e_fixture fx;
  auto fr = fx.start_feedrouter({"--body-limit", "1024"});
  struct refusal {
    std::string request;
    int status;
    std::string field;
  };
  const std::vector<refusal> refusals = {
    {"PUT /v1/triggers/alice/t HTTP/1.1\r\nHost: h\r\nContent-Length: 1025\r\n\r\n", 413, "body"},
    {"GET /health HTTP/1.1\r\n\r\n", 400, "Host"},
    {"GET /health HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\n\r\n", 417, "Expect"},
    {"GET /health HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400, "headers"},
  };
  for (const auto& r : refusals) {
    INFO(r.request);
    raw_http_client client{port_of(*fr)};
    client.send(r.request);
    auto res = client.read_response();
    REQUIRE(res);
    CHECK(res->status == r.status);
    CHECK(res->field("Content-Type") == "application/json");
    CHECK(json_string_at(res->body, "/field") == r.field);
    CHECK(json_string_at(res->body, "/error") != std::nullopt);
    CHECK(client.wait_closed());
  }
  fr->stop_cleanly();
}

TEST_CASE("a CREATE that expects 100-continue gets it, then its answer", "[e2e]") {
  e2e_fixture fx;
  auto fr = fx.start_feedrouter();
  const trigger_ref trigger{"alice", "continued"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto body = alarm_body(yearly, "{}");
  raw_http_client client{port_of(*fr)};
  client.send("PUT " + trigger_path(trigger) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
              + basic_authorization(alice_key) + "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
              + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  auto interim = client.read_response();
  REQUIRE(interim);
  CHECK(interim->status == 100);
  client.send(body);
  auto created = client.read_response();
  REQUIRE(created);
  INFO(created->body);
  CHECK(created->status == 201);
  CHECK(fr->call(api_request("GET", trigger_path(trigger), alice_key)).status == 200);
  fr->stop_cleanly();
}

TEST_CASE("Basic credentials after several spaces or a tab are accepted", "[e2e]") {
  e2e_fixture fx;
  auto fr = fx.start_feedrouter();
  const trigger_ref trigger{"alice", "spaced"};
  create_registration(fx, *fr, trigger);
  auto credentials = basic_authorization(alice_key).substr(std::string_view{"Basic "}.size());
  for (std::string separator : {"  ", "\t", " \t  "}) {
    auto req = api_request("GET", trigger_path(trigger));
    req.fields.emplace_back("Authorization", "Basic" + separator + credentials);
    auto res = fr->call(std::move(req));
    INFO(res.body);
    CHECK(res.status == 200);
  }
  fr->stop_cleanly();
}

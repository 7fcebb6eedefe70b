// The HTTP client's egress check: made on the address actually connected to, after DNS, for tenants' requests only.

#include "net/http_client.hpp"

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "core/egress_policy.hpp"
#include "core/url.hpp"
#include "net/io_runtime.hpp"
#include "raw_http_server.hpp"

using namespace std::chrono_literals;

using feedrouter::client_request;
using feedrouter::client_result;
using feedrouter::destination_owner;
using feedrouter::egress_policy;
using feedrouter::egress_rule;
using feedrouter::http_client;
using feedrouter::http_client_options;
using feedrouter::io_runtime;
using feedrouter::make_http_client;
using feedrouter::parse_egress_rule;
using feedrouter::parse_ip_address;
using feedrouter::parse_url;
using feedrouter::provider_endpoint;
using feedrouter::provider_endpoints;
using feedrouter::stream_request;
using feedrouter::stream_update;
using feedrouter::transport_failure;
using feedrouter::test::raw_http_server;

namespace {

/// Bound on every wait in these tests; reached only when something is broken.
constexpr auto test_deadline = 10s;

/// Returns client options whose egress policy has `rules` and protects `provider`.
http_client_options with_policy(const std::vector<std::string>& rules, std::vector<provider_endpoint> provider = {}) {
  std::vector<egress_rule> parsed;
  for (const auto& text : rules) {
    auto rule = parse_egress_rule(text, "--allow-egress");
    REQUIRE(rule);
    parsed.push_back(std::move(*rule));
  }
  http_client_options opts;
  opts.egress = std::make_shared<const egress_policy>(std::move(parsed), std::move(provider));
  return opts;
}

client_request make_request(const std::string& url_text, destination_owner owner = destination_owner::tenant) {
  auto where = parse_url(url_text, "url");
  REQUIRE(where);
  client_request req;
  req.destination = *where;
  req.message.method = "GET";
  req.owner = owner;
  return req;
}

client_result send_and_wait(http_client& client, client_request req) {
  auto result = std::make_shared<std::promise<client_result>>();
  auto future = result->get_future();
  client.send(std::move(req), [result](client_result r) { result->set_value(std::move(r)); });
  REQUIRE(future.wait_for(test_deadline) == std::future_status::ready);
  return future.get();
}

/// Opens a stream to `url_text` and returns its first update (the head, or the error).
stream_update first_update(http_client& client, const std::string& url_text) {
  auto where = parse_url(url_text, "url");
  REQUIRE(where);
  stream_request req;
  req.destination = *where;
  req.message.method = "GET";
  auto first = std::make_shared<std::promise<stream_update>>();
  auto future = first->get_future();
  auto delivered = std::make_shared<bool>(false);
  auto stream = client.open_stream(std::move(req), [first, delivered](stream_update u) {
    if (!*delivered) {
      *delivered = true;
      first->set_value(std::move(u));
    }
  });
  REQUIRE(future.wait_for(test_deadline) == std::future_status::ready);
  stream->close();
  return future.get();
}

/// Returns "http://localhost:PORT" + target: a name that the resolver (/etc/hosts) maps to loopback.
std::string via_localhost(const raw_http_server& server, const std::string& target = "/") {
  return "http://localhost:" + std::to_string(server.port()) + target;
}

} // namespace

TEST_CASE("a tenant's request to a loopback address is refused before any connection", "[http_client][egress]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::answer};
  auto client = make_http_client(io, with_policy({}));
  auto result = send_and_wait(*client, make_request(server.url("/metrics")));
  CHECK_FALSE(result.ok());
  CHECK(result.failure == transport_failure::not_allowed);
  CHECK(result.error == "not allowed by the egress policy");
  CHECK(server.connections() == 0);
}

TEST_CASE("a name that resolves to loopback is refused without the allow rule and connects with it",
          "[http_client][egress]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::answer};
  auto refusing = make_http_client(io, with_policy({}));
  auto refused = send_and_wait(*refusing, make_request(via_localhost(server, "/a")));
  CHECK(refused.failure == transport_failure::not_allowed);
  CHECK(server.connections() == 0);
  auto allowing = make_http_client(io, with_policy({"127.0.0.1"}));
  auto allowed = send_and_wait(*allowing, make_request(via_localhost(server, "/b")));
  REQUIRE(allowed.ok());
  CHECK(allowed.failure == transport_failure::none);
  CHECK(allowed.response.body == "/b");
  CHECK(server.connections() == 1);
}

TEST_CASE("a rule for another port or address does not open a loopback server", "[http_client][egress]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::answer};
  auto port = server.port();
  auto other_port = "127.0.0.1:" + std::to_string(port == 65535 ? 1 : port + 1);
  auto client = make_http_client(io, with_policy({other_port, "127.0.0.2", "10.0.0.0/8"}));
  CHECK(send_and_wait(*client, make_request(server.url())).failure == transport_failure::not_allowed);
  auto exact = make_http_client(io, with_policy({"127.0.0.1:" + std::to_string(port)}));
  CHECK(send_and_wait(*exact, make_request(server.url())).ok());
}

TEST_CASE("the provider's own endpoint stays closed to a loopback allow rule", "[http_client][egress]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::answer};
  auto itself = provider_endpoints({*parse_ip_address("127.0.0.1")}, server.port(), {});
  auto client = make_http_client(io, with_policy({"127.0.0.1"}, itself));
  CHECK(send_and_wait(*client, make_request(server.url("/metrics"))).failure == transport_failure::not_allowed);
  CHECK(send_and_wait(*client, make_request(via_localhost(server))).failure == transport_failure::not_allowed);
  CHECK(server.connections() == 0);
}

TEST_CASE("the operator's destinations are not checked, and tenants never reuse their connections",
          "[http_client][egress]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::answer};
  auto client = make_http_client(io, with_policy({}));
  auto fire = send_and_wait(*client, make_request(server.url("/fire"), destination_owner::operator_config));
  REQUIRE(fire.ok());
  CHECK(server.connections() == 1);
  // The operator's kept-alive connection to the same origin is not lent to a tenant's request.
  auto poll = send_and_wait(*client, make_request(server.url("/poll")));
  CHECK(poll.failure == transport_failure::not_allowed);
  CHECK(server.targets() == std::vector<std::string>{"/fire"});
}

TEST_CASE("refused, silent and not-HTTP destinations fail with one kind", "[http_client][egress]") {
  io_runtime io{1};
  auto client = make_http_client(io, with_policy({"127.0.0.1"}));
  raw_http_server silent{raw_http_server::behavior::never_answer};
  raw_http_server not_http{raw_http_server::behavior::hold};
  std::uint16_t closed_port = 0;
  {
    raw_http_server gone{raw_http_server::behavior::answer};
    closed_port = gone.port();
  }
  auto closed = send_and_wait(*client, make_request("http://127.0.0.1:" + std::to_string(closed_port) + "/"));
  auto timed_out_req = make_request(silent.url());
  timed_out_req.timeout = 200ms;
  auto timed_out = send_and_wait(*client, std::move(timed_out_req));
  auto garbage_result =
    std::async(std::launch::async, [&] { return send_and_wait(*client, make_request(not_http.url())); });
  REQUIRE(not_http.wait_for_requests(1, test_deadline));
  not_http.write(0, "SSH-2.0-OpenSSH_9.2\r\n");
  auto garbage = garbage_result.get();
  for (const auto* result : {&closed, &timed_out, &garbage}) {
    INFO(result->error);
    CHECK_FALSE(result->ok());
    CHECK(result->failure == transport_failure::no_response);
  }
  CHECK(failure_text(transport_failure::no_response) == "no HTTP response (cannot connect, timed out or not HTTP)");
  CHECK(failure_text(transport_failure::not_allowed) == "not allowed by the egress policy");
}

TEST_CASE("a caller's Host and hop-by-hop headers never reach the server", "[http_client][egress]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::answer};
  auto client = make_http_client(io, with_policy({"127.0.0.1"}));
  auto req = make_request(server.url("/h"));
  req.message.fields = {{"Host", "metadata.internal"}, {"Upgrade", "h2c"}, {"TE", "trailers"},
                        {"Proxy-Authorization", "Basic eA=="}, {"Keep-Alive", "timeout=5"}, {"X-Kept", "yes"}};
  REQUIRE(send_and_wait(*client, std::move(req)).ok());
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  const auto& sent = requests[0];
  INFO(sent);
  CHECK(sent.find("Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n") != std::string::npos);
  for (const auto* dropped : {"metadata.internal", "Upgrade", "TE:", "Proxy-Authorization", "Keep-Alive"})
    CHECK(sent.find(dropped) == std::string::npos);
  CHECK(sent.find("X-Kept: yes") != std::string::npos);
}

TEST_CASE("a stream to a name that resolves to loopback is refused without the allow rule and opens with it",
          "[http_stream][egress]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::answer};
  auto refusing = make_http_client(io, with_policy({}));
  auto refused = first_update(*refusing, via_localhost(server, "/db/_changes"));
  CHECK(refused.failure == transport_failure::not_allowed);
  CHECK(refused.error == "not allowed by the egress policy");
  CHECK(refused.status == 0);
  CHECK(server.connections() == 0);
  auto allowing = make_http_client(io, with_policy({"localhost"}));
  auto head = first_update(*allowing, via_localhost(server, "/db/_changes"));
  CHECK(head.error.empty());
  CHECK(head.status == 200);
  CHECK(server.connections() == 1);
}

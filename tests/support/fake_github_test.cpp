#include "tests/support/fake_github.hpp"

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "core/json.hpp"
#include "core/url.hpp"
#include "core/webhook_signature.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "net/io_runtime.hpp"

using namespace feedrouter;
using namespace std::chrono_literals;

namespace {

constexpr auto exchange_timeout = 5s;
constexpr char token[] = "ghp_fakeGitHubTestToken";
constexpr char repository[] = "octocat/hello";

/// The fake, a client to call it, and a receiver of its deliveries that records them and answers 202.
struct fake_github_world {
  io_runtime io{2};
  fake_github github{io};
  http_client_ptr client = make_http_client(io);
  std::mutex mtx;
  std::vector<http_request> received;
  http_server_ptr receiver;

  fake_github_world() {
    github.add_token(token);
    github.add_repository(repository);
    http_server::options opts;
    opts.port = 0;
    receiver = start_http_server(io, opts, [this](http_request req, http_server::responder respond) {
      {
        std::lock_guard<std::mutex> guard{mtx};
        received.push_back(req);
      }
      http_response res;
      res.status = 202;
      respond(std::move(res));
    });
  }

  ~fake_github_world() {
    receiver->stop();
  }

  std::string receiver_url() const {
    return "http://127.0.0.1:" + std::to_string(receiver->port()) + "/v1/hooks/abc";
  }

  /// Sends a request to the fake and returns its answer or the transport error; asserts nothing, so that another
  /// thread may call it.
  client_result exchange(std::string method, std::string target, std::string body = {},
                         std::string auth = std::string{"Bearer "} + token) {
    client_request req;
    req.destination = parse_url(github.url() + target, "url").value();
    req.message.method = std::move(method);
    req.message.body = std::move(body);
    req.message.fields = {{"User-Agent", "test"}};
    if (!auth.empty())
      req.message.fields.emplace_back("Authorization", std::move(auth));
    req.timeout = exchange_timeout;
    req.owner = destination_owner::operator_config;
    auto promise = std::make_shared<std::promise<client_result>>();
    auto answer = promise->get_future();
    client->send(std::move(req), [promise](client_result r) { promise->set_value(std::move(r)); });
    return answer.get();
  }

  http_response call(std::string method, std::string target, std::string body = {},
                     std::string auth = std::string{"Bearer "} + token) {
    auto result = exchange(std::move(method), std::move(target), std::move(body), std::move(auth));
    INFO(result.error);
    REQUIRE(result.ok());
    return result.response;
  }

  std::string create_body(const std::string& events = R"(["push"])") const {
    return R"({"name":"web","active":true,"events":)" + events + R"(,"config":{"url":")" + receiver_url()
           + R"(","content_type":"json","secret":"s3cret-s3cret-s3cret","insecure_ssl":"0"}})";
  }
};

std::optional<std::string> member(const std::string& json, std::string_view name) {
  auto members = parse_json_object(json, "body");
  if (!members)
    return std::nullopt;
  const auto* raw = find_member(*members, name);
  return raw ? std::optional<std::string>{*raw} : std::nullopt;
}

} // namespace

TEST_CASE("the fake GitHub refuses a bad token 401, an unknown repository 404 and a request without User-Agent 403",
          "[fake_github]") {
  fake_github_world w;
  auto bad = w.call("GET", "/repos/octocat/hello/hooks", {}, "Bearer ghp_wrong");
  CHECK(bad.status == 401);
  CHECK(member(bad.body, "message") == R"("Bad credentials")");
  CHECK(w.call("GET", "/repos/octocat/nothing/hooks").status == 404);
  CHECK(w.call("GET", "/repos/octocat/hello/hooks").body == "[]");
  CHECK(w.call("GET", "/repos/octocat/hello/hooks", {}, "token " + std::string{token}).status == 200);
}

TEST_CASE("the fake GitHub pings a hook before it answers its creation, signed with the hook's secret",
          "[fake_github]") {
  fake_github_world w;
  auto created = w.call("POST", "/repos/octocat/hello/hooks", w.create_body());
  REQUIRE(created.status == 201);
  // The ping was answered before the 201 came.
  std::lock_guard<std::mutex> guard{w.mtx};
  REQUIRE(w.received.size() == 1);
  const auto& ping = w.received.front();
  CHECK(ping.field("X-GitHub-Event") == "ping");
  CHECK(ping.field("X-GitHub-Delivery").size() == 36);
  CHECK(verify_hmac_sha256("s3cret-s3cret-s3cret", ping.body, ping.field("X-Hub-Signature-256")));
  CHECK(member(created.body, "id") == std::to_string(w.github.hooks(repository).front().id));
  CHECK(w.github.deliveries().front().status == 202);
}

TEST_CASE("the fake GitHub holds the answers to hook creations while told to: the hook exists and was pinged, the "
          "creator waits until they are released",
          "[fake_github]") {
  fake_github_world w;
  w.github.hold_creates();
  auto creating = std::async(std::launch::async,
                             [&w] { return w.exchange("POST", "/repos/octocat/hello/hooks", w.create_body()); });
  REQUIRE(w.github.wait_for_held_creates(1, exchange_timeout));
  CHECK(w.github.hooks(repository).size() == 1);
  CHECK(w.github.deliveries().size() == 1);
  CHECK(w.github.requests("POST") == 0);
  w.github.release_creates();
  auto created = creating.get();
  REQUIRE(created.ok());
  CHECK(created.response.status == 201);
  CHECK(member(created.response.body, "id") == std::to_string(w.github.hooks(repository).front().id));
  // Released: later creations are answered at once.
  CHECK(w.call("POST", "/repos/octocat/hello/hooks", w.create_body(R"(["issues"])")).status == 201);
}

TEST_CASE("the fake GitHub refuses a second hook for the same URL and events 422, and lists, patches and deletes",
          "[fake_github]") {
  fake_github_world w;
  REQUIRE(w.call("POST", "/repos/octocat/hello/hooks", w.create_body()).status == 201);
  auto twice = w.call("POST", "/repos/octocat/hello/hooks", w.create_body(R"(["push","issues"])"));
  CHECK(twice.status == 422);
  CHECK(twice.body.find("Hook already exists on this repository") != std::string::npos);
  auto id = std::to_string(w.github.hooks(repository).front().id);
  auto patched = w.call("PATCH", "/repos/octocat/hello/hooks/" + id, R"({"active":false})");
  CHECK(patched.status == 200);
  CHECK_FALSE(w.github.hooks(repository).front().active);
  // The secret survives a PATCH without config, and is never shown.
  CHECK(w.github.hooks(repository).front().secret == "s3cret-s3cret-s3cret");
  CHECK(patched.body.find("s3cret") == std::string::npos);
  CHECK(w.call("DELETE", "/repos/octocat/hello/hooks/" + id).status == 204);
  CHECK(w.call("DELETE", "/repos/octocat/hello/hooks/" + id).status == 404);
  CHECK(w.github.hooks(repository).empty());
  CHECK(w.github.requests("DELETE") == 2);
}

TEST_CASE("the fake GitHub delivers events to active hooks that take them, redelivers with the same id, and goes down",
          "[fake_github]") {
  fake_github_world w;
  REQUIRE(w.call("POST", "/repos/octocat/hello/hooks", w.create_body()).status == 201);
  CHECK(w.github.deliver(repository, "issues", "{}").empty());
  auto sent = w.github.deliver(repository, "push", R"({"after":"c0ffee"})");
  REQUIRE(sent.size() == 1);
  CHECK(sent.front().status == 202);
  auto again = w.github.redeliver(sent.front().id);
  CHECK(again.id == sent.front().id);
  CHECK(again.body == R"({"after":"c0ffee"})");
  {
    std::lock_guard<std::mutex> guard{w.mtx};
    REQUIRE(w.received.size() == 3);
    CHECK(w.received[1].field("X-GitHub-Delivery") == w.received[2].field("X-GitHub-Delivery"));
  }
  w.github.set_down(true);
  CHECK(w.call("GET", "/repos/octocat/hello/hooks").status == 503);
  w.github.set_down(false);
  CHECK(w.call("GET", "/repos/octocat/hello/hooks").status == 200);
}

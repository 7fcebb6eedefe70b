#include "net/http_client.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "core/url.hpp"
#include "net/http_server.hpp"
#include "net/io_runtime.hpp"
#include "raw_http_server.hpp"

using namespace std::chrono_literals;

using feedrouter::client_request;
using feedrouter::client_result;
using feedrouter::http_client;
using feedrouter::http_client_options;
using feedrouter::http_request;
using feedrouter::http_response;
using feedrouter::http_server;
using feedrouter::io_runtime;
using feedrouter::make_http_client;
using feedrouter::parse_url;
using feedrouter::start_http_server;
using feedrouter::test::raw_http_server;

namespace {

/// Bound on every wait in these tests; reached only when something is broken.
constexpr auto test_deadline = 10s;

client_request make_request(const std::string& url_text, std::string method = "GET", std::string body = {}) {
  auto where = parse_url(url_text, "url");
  REQUIRE(where);
  client_request req;
  req.destination = *where;
  req.message.method = std::move(method);
  req.message.body = std::move(body);
  return req;
}

/// Sends `req` and waits for its result.
client_result send_and_wait(http_client& client, client_request req) {
  auto result = std::make_shared<std::promise<client_result>>();
  auto future = result->get_future();
  client.send(std::move(req), [result](client_result r) { result->set_value(std::move(r)); });
  REQUIRE(future.wait_for(test_deadline) == std::future_status::ready);
  return future.get();
}

/// Collects the results of many concurrent requests and wakes the test when all are in. The callbacks share its
/// state, so a test that gives up early does not leave them writing into a destroyed object.
class result_sink {
public:
  explicit result_sink(std::size_t expected) : state_(std::make_shared<state>()) {
    state_->expected = expected;
  }

  http_client::completion slot(std::size_t index) const {
    return [s = state_, index](client_result r) { s->put(index, std::move(r)); };
  }

  bool wait(std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> guard{state_->mutex};
    return state_->all_in.wait_for(guard, timeout, [this] { return state_->results.size() == state_->expected; });
  }

  std::vector<std::pair<std::size_t, client_result>> results() const {
    std::lock_guard<std::mutex> guard{state_->mutex};
    return state_->results;
  }

private:
  struct state {
    void put(std::size_t index, client_result r) {
      std::lock_guard<std::mutex> guard{mutex};
      results.emplace_back(index, std::move(r));
      if (results.size() == expected)
        all_in.notify_all();
    }

    std::size_t expected = 0;
    std::mutex mutex;
    std::condition_variable all_in;
    std::vector<std::pair<std::size_t, client_result>> results;
  };

  std::shared_ptr<state> state_;
};

} // namespace

TEST_CASE("the client sends a request and returns the server's response", "[http_client]") {
  io_runtime io{1};
  std::promise<http_request> seen;
  auto server = start_http_server(io, {"127.0.0.1", 0}, [&](http_request req, http_server::responder respond) {
    seen.set_value(req);
    http_response res;
    res.status = 202;
    res.fields.emplace_back("Content-Type", "application/json");
    res.body = R"({"activationId":"a1"})";
    respond(std::move(res));
  });
  auto client = make_http_client(io);
  auto port = std::to_string(server->port());
  auto req = make_request("http://127.0.0.1:" + port + "/api/v1/namespaces/ns/triggers/t?x=1", "POST", "{}");
  req.message.fields.emplace_back("Authorization", "Basic dXNlcjprZXk=");
  req.message.fields.emplace_back("Content-Type", "application/json");
  auto result = send_and_wait(*client, std::move(req));
  REQUIRE(result.ok());
  CHECK(result.response.status == 202);
  CHECK(result.response.body == R"({"activationId":"a1"})");
  CHECK(result.response.field("content-type") == "application/json");
  CHECK(result.response.field("server") == "feedrouter");
  auto sent = seen.get_future().get();
  CHECK(sent.method == "POST");
  CHECK(sent.target == "/api/v1/namespaces/ns/triggers/t?x=1");
  CHECK(sent.field("Host") == "127.0.0.1:" + port);
  CHECK(sent.field("Connection") == "keep-alive");
  CHECK(sent.field("Authorization") == "Basic dXNlcjprZXk=");
  CHECK(sent.field("Content-Length") == "2");
  CHECK(sent.body == "{}");
}

TEST_CASE("the client reuses one kept-alive connection for sequential requests", "[http_client]") {
  io_runtime io{2};
  raw_http_server server{raw_http_server::behavior::answer};
  auto client = make_http_client(io);
  constexpr int count = 200;
  for (int i = 0; i < count; ++i) {
    auto target = "/seq/" + std::to_string(i);
    auto result = send_and_wait(*client, make_request(server.url(target)));
    REQUIRE(result.ok());
    CHECK(result.response.body == target);
  }
  CHECK(server.connections() == 1);
}

TEST_CASE("concurrent requests share a pool bounded to its connection limit", "[http_client]") {
  io_runtime io{2};
  raw_http_server server{raw_http_server::behavior::answer};
  constexpr std::size_t max_connections = 4;
  constexpr std::size_t senders = 4;
  constexpr std::size_t per_sender = 250;
  http_client_options opts;
  opts.max_connections_per_origin = max_connections;
  auto client = make_http_client(io, opts);
  result_sink sink{senders * per_sender};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < senders; ++t)
    threads.emplace_back([&, t] {
      for (std::size_t i = 0; i < per_sender; ++i) {
        auto index = t * per_sender + i;
        client->send(make_request(server.url("/c/" + std::to_string(index)), "POST", "x"), sink.slot(index));
      }
    });
  for (auto& thread : threads)
    thread.join();
  REQUIRE(sink.wait(test_deadline));
  for (auto& [index, result] : sink.results()) {
    REQUIRE(result.ok());
    CHECK(result.response.body == "/c/" + std::to_string(index));
  }
  CHECK(server.connections() <= max_connections);
  CHECK(server.connections() >= 1);
}

TEST_CASE("requests wait in FIFO order while every connection is busy", "[http_client]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::answer};
  http_client_options opts;
  opts.max_connections_per_origin = 1;
  auto client = make_http_client(io, opts);
  constexpr std::size_t count = 20;
  result_sink sink{count};
  std::vector<std::string> expected;
  for (std::size_t i = 0; i < count; ++i) {
    expected.push_back("/fifo/" + std::to_string(i));
    client->send(make_request(server.url(expected.back())), sink.slot(i));
  }
  REQUIRE(sink.wait(test_deadline));
  CHECK(server.targets() == expected);
  CHECK(server.connections() == 1);
}

TEST_CASE("a kept-alive connection closed by the server is retried transparently", "[http_client]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::close_after_answer};
  auto client = make_http_client(io);
  constexpr int count = 5;
  for (int i = 0; i < count; ++i) {
    auto target = "/retry/" + std::to_string(i);
    auto result = send_and_wait(*client, make_request(server.url(target), "POST", "event"));
    REQUIRE(result.ok());
    CHECK(result.response.body == target);
  }
  // The first request opens a connection; every later one finds it closed and retries once on a fresh one.
  CHECK(server.connections() == count);
}

TEST_CASE("a request times out against a server that never answers", "[http_client]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::never_answer};
  auto client = make_http_client(io);
  auto req = make_request(server.url("/slow"));
  req.timeout = 200ms;
  auto started = std::chrono::steady_clock::now();
  auto result = send_and_wait(*client, std::move(req));
  auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(result.error == "timeout");
  CHECK(elapsed >= 200ms);
  CHECK(elapsed < test_deadline);
  CHECK(server.wait_for_requests(1, test_deadline));
}

TEST_CASE("a refused connection is reported as a connect error", "[http_client]") {
  io_runtime io{1};
  auto server = start_http_server(io, {"127.0.0.1", 0}, [](http_request, http_server::responder) {});
  auto port = server->port();
  server->stop();
  auto client = make_http_client(io);
  auto result = send_and_wait(*client, make_request("http://127.0.0.1:" + std::to_string(port) + "/"));
  CHECK(result.error == "connect: Connection refused");
}

TEST_CASE("a request rejected before reaching the network is answered on an I/O thread", "[http_client]") {
  io_runtime io{1};
  auto client = make_http_client(io);
  auto test_thread = std::this_thread::get_id();
  auto outcome = std::make_shared<std::promise<std::pair<client_result, std::thread::id>>>();
  auto future = outcome->get_future();
  client->send(make_request("http://127.0.0.1:1/", "BAD METHOD"), [outcome](client_result r) {
    outcome->set_value({std::move(r), std::this_thread::get_id()});
  });
  REQUIRE(future.wait_for(test_deadline) == std::future_status::ready);
  auto [result, thread] = future.get();
  CHECK(result.error.rfind("invalid method", 0) == 0);
  CHECK(thread != test_thread);
}

TEST_CASE("a request with a malformed method or target fails without reaching the network", "[http_client]") {
  io_runtime io{1};
  raw_http_server server{raw_http_server::behavior::answer};
  auto client = make_http_client(io);
  auto bad_method = make_request(server.url("/"), "GET /evil HTTP/1.1\r\nX:");
  CHECK(send_and_wait(*client, std::move(bad_method)).error.rfind("invalid method", 0) == 0);
  auto bad_target = make_request(server.url("/"));
  bad_target.destination.target = "/a b";
  CHECK(send_and_wait(*client, std::move(bad_target)).error.rfind("invalid target", 0) == 0);
  CHECK(server.connections() == 0);
}

TEST_CASE("the client and the server run sequential and concurrent load", "[http_client][.bench]") {
  io_runtime io{2};
  auto server = start_http_server(io, {"127.0.0.1", 0}, [](http_request req, http_server::responder respond) {
    http_response res;
    res.status = 202;
    res.fields.emplace_back("Content-Type", "application/json");
    res.body = R"({"activationId":"0123456789abcdef"})";
    respond(std::move(res));
  });
  auto url_text = "http://127.0.0.1:" + std::to_string(server->port()) + "/api/v1/namespaces/ns/triggers/t";
  auto body = std::string(R"({"event":")") + std::string(200, 'x') + "\"}";
  http_client_options opts;
  opts.max_connections_per_origin = 16;
  auto client = make_http_client(io, opts);
  constexpr std::size_t sequential = 5000;
  auto started = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < sequential; ++i)
    REQUIRE(send_and_wait(*client, make_request(url_text, "POST", body)).ok());
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  WARN("sequential keep-alive: " << sequential / seconds << " requests/s, " << seconds * 1e6 / sequential
                                 << " us each");
  constexpr std::size_t concurrent = 50000;
  result_sink sink{concurrent};
  started = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < concurrent; ++i)
    client->send(make_request(url_text, "POST", body), sink.slot(i));
  REQUIRE(sink.wait(60s));
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::size_t failed = 0;
  for (auto& [index, result] : sink.results())
    failed += result.ok() ? 0 : 1;
  CHECK(failed == 0);
  WARN("concurrent over " << opts.max_connections_per_origin << " connections: " << concurrent / seconds
                          << " requests/s");
}

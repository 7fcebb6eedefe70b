#include "net/http_server.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "net/http_client.hpp"
#include "net/io_runtime.hpp"
#include "http_server_fixture.hpp"
#include "raw_http_client.hpp"

using namespace std::chrono_literals;

using feedrouter::http_request;
using feedrouter::http_response;
using feedrouter::http_server;
using feedrouter::io_runtime;
using feedrouter::start_http_server;
using feedrouter::test::echo_handler;
using feedrouter::test::get_request;
using feedrouter::test::local_options;
using feedrouter::test::parking_handler;
using feedrouter::test::raw_http_client;
using feedrouter::test::test_deadline;
using feedrouter::test::text_response;

TEST_CASE("the server listens on an ephemeral port and answers with the handler's response", "[http_server]") {
  io_runtime io{1};
  echo_handler handler;
  auto server = start_http_server(io, local_options(), handler);
  REQUIRE(server->port() != 0);
  raw_http_client client{server->port()};
  client.send("POST /v1/hooks/abc?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello");
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "POST /v1/hooks/abc?x=1 hello");
  CHECK(res->field("Server") == "feedrouter");
  CHECK(res->field("Content-Type") == "text/plain");
  CHECK(res->field("Content-Length") == std::to_string(res->body.size()));
  CHECK(*handler.calls == 1);
}

TEST_CASE("the server hands the handler method, target, fields and body", "[http_server]") {
  io_runtime io{1};
  std::promise<http_request> seen;
  auto server = start_http_server(io, local_options(), [&](http_request req, http_server::responder respond) {
    seen.set_value(req);
    respond(text_response(204, ""));
  });
  raw_http_client client{server->port()};
  client.send("PUT /v1/triggers/ns/t HTTP/1.1\r\nHost: x\r\nAuthorization: Basic abc\r\nContent-Length: 2\r\n\r\n{}");
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->status == 204);
  CHECK(res->field("Content-Length").empty());
  auto req = seen.get_future().get();
  CHECK(req.method == "PUT");
  CHECK(req.target == "/v1/triggers/ns/t");
  CHECK(req.field("authorization") == "Basic abc");
  CHECK(req.body == "{}");
}

TEST_CASE("the server keeps a connection alive for one request after another", "[http_server]") {
  io_runtime io{2};
  echo_handler handler;
  auto server = start_http_server(io, local_options(), handler);
  raw_http_client client{server->port()};
  for (int i = 0; i < 5; ++i) {
    client.send(get_request("/" + std::to_string(i)));
    auto res = client.read_response();
    REQUIRE(res);
    CHECK(res->body == "GET /" + std::to_string(i) + " ");
    CHECK_FALSE(res->field("Connection") == "close");
  }
  CHECK(*handler.calls == 5);
}

TEST_CASE("the server answers pipelined requests in order, one at a time", "[http_server]") {
  io_runtime io{2};
  echo_handler handler;
  auto server = start_http_server(io, local_options(), handler);
  raw_http_client client{server->port()};
  client.send(get_request("/a") + get_request("/b") + get_request("/c"));
  for (auto target : {"/a", "/b", "/c"}) {
    auto res = client.read_response();
    REQUIRE(res);
    CHECK(res->body == std::string{"GET "} + target + " ");
  }
}

TEST_CASE("the server closes the connection after answering a request that asks for it", "[http_server]") {
  io_runtime io{1};
  auto server = start_http_server(io, local_options(), echo_handler{});
  raw_http_client client{server->port()};
  client.send("GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->field("Connection") == "close");
  CHECK(client.wait_closed(test_deadline));
}

TEST_CASE("the server answers 413 to an oversized body without calling the handler", "[http_server]") {
  io_runtime io{1};
  auto opts = local_options();
  opts.body_limit = 16;
  echo_handler handler;
  auto server = start_http_server(io, opts, handler);
  raw_http_client client{server->port()};
  client.send("POST /v1/hooks/h HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x'));
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->status == 413);
  CHECK(res->body == "request body exceeds 16 bytes\n");
  CHECK(res->field("Content-Type") == "text/plain; charset=utf-8");
  CHECK(client.wait_closed(test_deadline));
  CHECK(*handler.calls == 0);
}

TEST_CASE("the server answers 413 to an oversized chunked body", "[http_server]") {
  io_runtime io{1};
  auto opts = local_options();
  opts.body_limit = 16;
  echo_handler handler;
  auto server = start_http_server(io, opts, handler);
  raw_http_client client{server->port()};
  client.send("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n" + std::string(32, 'x')
              + "\r\n0\r\n\r\n");
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->status == 413);
  CHECK(client.wait_closed(test_deadline));
  CHECK(*handler.calls == 0);
}

TEST_CASE("the server answers 431 to oversized headers", "[http_server]") {
  io_runtime io{1};
  auto opts = local_options();
  opts.header_limit = 256;
  echo_handler handler;
  auto server = start_http_server(io, opts, handler);
  raw_http_client client{server->port()};
  client.send("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(1024, 'y') + "\r\n\r\n");
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->status == 431);
  CHECK(client.wait_closed(test_deadline));
  CHECK(*handler.calls == 0);
}

TEST_CASE("the server answers 400 to a malformed request and closes the connection", "[http_server]") {
  io_runtime io{1};
  echo_handler handler;
  auto server = start_http_server(io, local_options(), handler);
  auto request = GENERATE(as<std::string>{}, "NOT HTTP AT ALL\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
                          "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n");
  raw_http_client client{server->port()};
  client.send(request);
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK_THAT(res->body, Catch::StartsWith("malformed HTTP request: "));
  CHECK(client.wait_closed(test_deadline));
  CHECK(*handler.calls == 0);
}

TEST_CASE("the server's own error answers are rendered by the application's renderer", "[http_server]") {
  io_runtime io{1};
  auto opts = local_options();
  opts.body_limit = 4;
  std::vector<std::string> fields;
  std::mutex fields_mutex;
  opts.render_error = [&](int status, std::string_view message, std::string_view field) {
    std::lock_guard<std::mutex> guard{fields_mutex};
    fields.emplace_back(field);
    // The status the renderer puts in is not what the client sees: the server keeps its own.
    return text_response(299, std::to_string(status) + " " + std::string{message});
  };
  auto server = start_http_server(io, opts, [](http_request req, http_server::responder) {
    if (req.target == "/throw")
      throw std::runtime_error("bug");
  });
  auto exchange = [&](const std::string& request) {
    raw_http_client client{server->port()};
    client.send(request);
    auto res = client.read_response();
    REQUIRE(res);
    return *res;
  };
  auto too_large = exchange("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
  CHECK(too_large.status == 413);
  CHECK(too_large.body == "413 request body exceeds 4 bytes");
  CHECK(too_large.field("Content-Type") == "text/plain");
  auto no_host = exchange("GET / HTTP/1.1\r\n\r\n");
  CHECK(no_host.status == 400);
  CHECK(no_host.body == "400 an HTTP/1.1 request needs a Host field");
  auto thrown = exchange(get_request("/throw"));
  CHECK(thrown.status == 500);
  CHECK(thrown.body == "500 internal error");
  std::lock_guard<std::mutex> guard{fields_mutex};
  CHECK(fields == std::vector<std::string>{"body", "Host", "request"});
}

TEST_CASE("a renderer that throws leaves the client a plain-text answer", "[http_server]") {
  io_runtime io{1};
  auto opts = local_options();
  opts.render_error = [](int, std::string_view, std::string_view) -> http_response {
    throw std::runtime_error("renderer bug");
  };
  echo_handler handler;
  auto server = start_http_server(io, opts, handler);
  raw_http_client client{server->port()};
  client.send("GET / HTTP/1.1\r\n\r\n");
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK(res->body == "an HTTP/1.1 request needs a Host field\n");
  CHECK(client.wait_closed(test_deadline));
}

TEST_CASE("a responder may be called from another thread", "[http_server]") {
  io_runtime io{1};
  parking_handler handler;
  auto parked = handler.parked->get_future();
  auto server = start_http_server(io, local_options(), handler);
  raw_http_client client{server->port()};
  client.send(get_request("/later"));
  REQUIRE(parked.wait_for(test_deadline) == std::future_status::ready);
  auto respond = parked.get();
  std::thread other{[respond] { respond(text_response(202, "accepted")); }};
  other.join();
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->status == 202);
  CHECK(res->body == "accepted");
}

TEST_CASE("a responder called twice answers once", "[http_server]") {
  io_runtime io{1};
  std::atomic<int> calls{0};
  auto server = start_http_server(io, local_options(), [&](http_request req, http_server::responder respond) {
    ++calls;
    respond(text_response(200, "first " + req.target));
    respond(text_response(500, "second"));
  });
  raw_http_client client{server->port()};
  client.send(get_request("/1") + get_request("/2"));
  auto one = client.read_response();
  auto two = client.read_response();
  REQUIRE(one);
  REQUIRE(two);
  CHECK(one->body == "first /1");
  CHECK(two->body == "first /2");
  CHECK(calls == 2);
}

TEST_CASE("calling a responder after its connection closed is harmless", "[http_server]") {
  io_runtime io{1};
  parking_handler handler;
  auto parked = handler.parked->get_future();
  auto server = start_http_server(io, local_options(), handler);
  raw_http_client client{server->port()};
  client.send(get_request("/never"));
  REQUIRE(parked.wait_for(test_deadline) == std::future_status::ready);
  auto respond = parked.get();
  server->stop();
  CHECK(client.wait_closed(test_deadline));
  respond(text_response(200, "too late"));
  respond(text_response(200, "still too late"));
  server.reset();
  respond(text_response(200, "server gone"));
}

TEST_CASE("stop closes the acceptor and every open connection and may be called twice", "[http_server]") {
  io_runtime io{2};
  auto server = start_http_server(io, local_options(), echo_handler{});
  auto port = server->port();
  raw_http_client idle{port};
  raw_http_client used{port};
  used.send(get_request("/x"));
  REQUIRE(used.read_response());
  server->stop();
  server->stop();
  CHECK(idle.wait_closed(test_deadline));
  CHECK(used.wait_closed(test_deadline));
  CHECK(server->port() == port);
}

TEST_CASE("the server closes a connection that stays idle", "[http_server]") {
  io_runtime io{1};
  auto opts = local_options();
  opts.idle_timeout = 1s;
  auto server = start_http_server(io, opts, echo_handler{});
  raw_http_client client{server->port()};
  client.send(get_request("/x"));
  REQUIRE(client.read_response());
  CHECK(client.wait_closed(test_deadline));
}

TEST_CASE("starting a server on a port in use throws a one-line error", "[http_server]") {
  io_runtime io{1};
  auto first = start_http_server(io, local_options(), echo_handler{});
  auto opts = local_options();
  opts.port = first->port();
  auto expected = "cannot listen on 127.0.0.1:" + std::to_string(first->port()) + ": ";
  try {
    start_http_server(io, opts, echo_handler{});
    FAIL("the second server should not start");
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    CHECK(what.rfind(expected, 0) == 0);
    CHECK(what.size() > expected.size());
    CHECK(what.find('\n') == std::string::npos);
  }
}

TEST_CASE("a handler that throws gets its client a 500", "[http_server]") {
  io_runtime io{1};
  auto server = start_http_server(io, local_options(), [](http_request, http_server::responder) {
    throw std::runtime_error("bug");
  });
  raw_http_client client{server->port()};
  client.send(get_request("/x"));
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->status == 500);
}

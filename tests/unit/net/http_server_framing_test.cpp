// How the server frames the requests it accepts: bodies by Content-Length or chunked, pipelines, HTTP/1.0, and
// Expect: 100-continue.

#include "net/http_server.hpp"

#include <future>
#include <string>

#include <catch2/catch.hpp>

#include "net/io_runtime.hpp"
#include "http_server_fixture.hpp"
#include "raw_http_client.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

TEST_CASE("repeated equal Content-Length values are read as one", "[http_server][framing]") {
  io_runtime io{1};
  echo_handler handler;
  auto server = start_http_server(io, local_options(), handler);
  auto fields = GENERATE(as<std::string>{}, "Content-Length: 3, 3\r\n", "Content-Length: 3\r\nContent-Length: 3\r\n");
  raw_http_client client{server->port()};
  client.send("POST /x HTTP/1.1\r\nHost: h\r\n" + fields + "\r\nabc" + get_request("/next"));
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "POST /x abc");
  auto next = client.read_response();
  REQUIRE(next);
  CHECK(next->body == "GET /next ");
}

TEST_CASE("the server accepts Host values of every form", "[http_server][framing]") {
  io_runtime io{1};
  echo_handler handler;
  auto server = start_http_server(io, local_options(), handler);
  auto host = GENERATE(as<std::string>{}, "h", "h:8080", "127.0.0.1:80", "[::1]", "[::1]:8080", "a-b.example.com",
                       "", "xn--bcher-kva.example", "host:");
  INFO("Host: " << host);
  raw_http_client client{server->port()};
  client.send("GET /x HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->status == 200);
}

TEST_CASE("a chunked body is read whole and its trailer fields are not merged into the header",
          "[http_server][framing]") {
  io_runtime io{1};
  std::promise<http_request> seen;
  auto server = start_http_server(io, local_options(), [&](http_request req, http_server::responder respond) {
    seen.set_value(req);
    respond(text_response(204, ""));
  });
  raw_http_client client{server->port()};
  client.send("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n"
              "3;ext=\"v\"\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\nAuthorization: Basic YTpi\r\n\r\n");
  auto res = client.read_response();
  REQUIRE(res);
  REQUIRE(res->status == 204);
  auto handed = seen.get_future();
  REQUIRE(handed.wait_for(test_deadline) == std::future_status::ready);
  auto req = handed.get();
  CHECK(req.body == "abcde");
  CHECK(req.field("X-Trailer").empty());
  CHECK(req.field("Authorization").empty());
  CHECK(req.field("Transfer-Encoding") == "Chunked");
}

TEST_CASE("pipelined requests with bodies are answered in order", "[http_server][framing]") {
  io_runtime io{2};
  echo_handler handler;
  auto server = start_http_server(io, local_options(), handler);
  raw_http_client client{server->port()};
  client.send("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\none"
              "POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
              + get_request("/c"));
  for (auto expected : {"POST /a one", "POST /b two", "GET /c "}) {
    auto res = client.read_response();
    REQUIRE(res);
    CHECK(res->body == expected);
  }
  CHECK(*handler.calls == 3);
}

TEST_CASE("a pipeline that arrives one byte at a time is read the same way", "[http_server][framing]") {
  io_runtime io{1};
  echo_handler handler;
  auto server = start_http_server(io, local_options(), handler);
  raw_http_client client{server->port()};
  std::string pipeline = "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"
                         "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nyz";
  for (char c : pipeline)
    client.send(std::string(1, c));
  for (auto expected : {"POST /a x", "POST /b yz"}) {
    auto res = client.read_response();
    REQUIRE(res);
    CHECK(res->body == expected);
  }
}

TEST_CASE("an HTTP/1.0 request needs no Host and closes the connection unless kept alive", "[http_server][framing]") {
  io_runtime io{1};
  echo_handler handler;
  auto server = start_http_server(io, local_options(), handler);
  SECTION("without keep-alive") {
    raw_http_client client{server->port()};
    client.send("GET /old HTTP/1.0\r\n\r\n");
    auto res = client.read_response();
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->body == "GET /old ");
    CHECK(client.wait_closed(test_deadline));
  }
  SECTION("with keep-alive") {
    raw_http_client client{server->port()};
    client.send("POST /old HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi");
    auto first = client.read_response();
    REQUIRE(first);
    CHECK(first->body == "POST /old hi");
    CHECK(first->field("Connection") == "keep-alive");
    client.send("GET /again HTTP/1.0\r\n\r\n");
    auto second = client.read_response();
    REQUIRE(second);
    CHECK(second->body == "GET /again ");
    CHECK(client.wait_closed(test_deadline));
  }
}

TEST_CASE("a request with Expect: 100-continue gets 100 Continue and then sends its body", "[http_server][continue]") {
  io_runtime io{1};
  echo_handler handler;
  auto server = start_http_server(io, local_options(), handler);
  raw_http_client client{server->port()};
  client.send("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n");
  auto interim = client.read_response();
  REQUIRE(interim);
  CHECK(interim->status == 100);
  CHECK(*handler.calls == 0);
  client.send("hello");
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "PUT /x hello");
  // The connection stays usable.
  client.send(get_request("/next"));
  auto next = client.read_response();
  REQUIRE(next);
  CHECK(next->body == "GET /next ");
}

TEST_CASE("a chunked request with Expect: 100-continue gets 100 Continue", "[http_server][continue]") {
  io_runtime io{1};
  echo_handler handler;
  auto server = start_http_server(io, local_options(), handler);
  raw_http_client client{server->port()};
  client.send("POST /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n");
  auto interim = client.read_response();
  REQUIRE(interim);
  CHECK(interim->status == 100);
  client.send("4\r\nbody\r\n0\r\n\r\n");
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->body == "POST /x body");
}

TEST_CASE("a request with Expect: 100-continue and a body over the limit gets 413 without 100",
          "[http_server][continue]") {
  io_runtime io{1};
  auto opts = local_options();
  opts.body_limit = 16;
  echo_handler handler;
  auto server = start_http_server(io, opts, handler);
  raw_http_client client{server->port()};
  client.send("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 17\r\n\r\n");
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->status == 413);
  CHECK(client.wait_closed(test_deadline));
  CHECK(*handler.calls == 0);
}

TEST_CASE("a request with Expect: 100-continue and no body is answered at once", "[http_server][continue]") {
  io_runtime io{1};
  echo_handler handler;
  auto server = start_http_server(io, local_options(), handler);
  raw_http_client client{server->port()};
  client.send("GET /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n");
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "GET /x ");
}

TEST_CASE("an expectation in an HTTP/1.0 request is ignored", "[http_server][continue]") {
  io_runtime io{1};
  echo_handler handler;
  auto server = start_http_server(io, local_options(), handler);
  raw_http_client client{server->port()};
  client.send("POST /x HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi");
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "POST /x hi");
}

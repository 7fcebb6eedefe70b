// Requests whose end another HTTP implementation could place elsewhere (request smuggling), and other requests the
// server refuses before its handler sees them: each gets its answer, then the connection closes.

#include "net/http_server.hpp"

#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "net/io_runtime.hpp"
#include "http_server_fixture.hpp"
#include "raw_http_client.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

/// A request the server would run if it read a body as the next request on the connection.
const std::string hidden_request = "DELETE /hidden HTTP/1.1\r\nHost: h\r\n\r\n";

/// A request the server must refuse, and the status it answers with.
struct refused_case {
  std::string what;
  std::string request;
  int status;
};

/// Sends `bad.request` to a fresh server and checks that it answers `bad.status`, closes the connection, and never
/// calls its handler (so nothing hidden in the request ran).
void check_refused(const refused_case& bad, http_server::options opts = local_options()) {
  INFO(bad.what);
  io_runtime io{1};
  echo_handler handler;
  auto server = start_http_server(io, std::move(opts), handler);
  raw_http_client client{server->port()};
  client.send(bad.request);
  auto res = client.read_response();
  REQUIRE(res);
  CHECK(res->status == bad.status);
  CHECK(res->field("Connection") == "close");
  CHECK(client.wait_closed(test_deadline));
  CHECK(*handler.calls == 0);
}

std::string post_head(const std::string& fields) {
  return "POST /health HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n";
}

} // namespace

TEST_CASE("the server refuses a Transfer-Encoding other than chunked and runs nothing hidden in the body",
          "[http_server][framing]") {
  auto bad = GENERATE(values<refused_case>({
    {"gzip", post_head("Transfer-Encoding: gzip\r\n") + hidden_request, 400},
    {"chunked, gzip", post_head("Transfer-Encoding: chunked, gzip\r\n") + hidden_request, 400},
    {"xchunked", post_head("Transfer-Encoding: xchunked\r\n") + hidden_request, 400},
    {"identity", post_head("Transfer-Encoding: identity\r\n") + hidden_request, 400},
    {"an empty coding", post_head("Transfer-Encoding: \r\n") + hidden_request, 400},
    {"chunked with a parameter", post_head("Transfer-Encoding: chunked;q=1\r\n") + hidden_request, 400},
    {"gzip, chunked", post_head("Transfer-Encoding: gzip, chunked\r\n") + "0\r\n\r\n" + hidden_request, 501},
    {"chunked, chunked", post_head("Transfer-Encoding: chunked, chunked\r\n") + "0\r\n\r\n" + hidden_request, 501},
    {"gzip then chunked in two fields",
     post_head("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n" + hidden_request, 501},
    {"chunked then gzip in two fields",
     post_head("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n") + hidden_request, 400},
  }));
  check_refused(bad);
}

TEST_CASE("the server refuses Content-Length together with Transfer-Encoding", "[http_server][framing]") {
  auto bad = GENERATE(values<refused_case>({
    {"Content-Length first", post_head("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n", 400},
    {"Transfer-Encoding first", post_head("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n") + "0\r\n\r\n",
     400},
    {"with gzip, Transfer-Encoding first",
     post_head("Transfer-Encoding: gzip\r\nContent-Length: 37\r\n") + hidden_request, 400},
    {"with gzip, Content-Length first",
     post_head("Content-Length: 37\r\nTransfer-Encoding: gzip\r\n") + hidden_request, 400},
  }));
  check_refused(bad);
}

TEST_CASE("the server refuses differing or malformed Content-Length values", "[http_server][framing]") {
  auto bad = GENERATE(values<refused_case>({
    {"two differing fields", post_head("Content-Length: 3\r\nContent-Length: 4\r\n") + "abcd", 400},
    {"a list of differing values", post_head("Content-Length: 3, 4\r\n") + "abcd", 400},
    {"not a number", post_head("Content-Length: abc\r\n"), 400},
    {"negative", post_head("Content-Length: -1\r\n"), 400},
    {"with a sign", post_head("Content-Length: +3\r\n") + "abc", 400},
    {"hexadecimal", post_head("Content-Length: 0x3\r\n") + "abc", 400},
    {"empty", post_head("Content-Length: \r\n"), 400},
    {"two numbers without a comma", post_head("Content-Length: 3 3\r\n") + "abc", 400},
    {"a trailing comma", post_head("Content-Length: 3,\r\n") + "abc", 400},
    {"beyond 64 bits", post_head("Content-Length: 99999999999999999999999\r\n"), 400},
  }));
  check_refused(bad);
}

TEST_CASE("the server refuses obsolete line folding", "[http_server][framing]") {
  auto bad = GENERATE(values<refused_case>({
    {"a folded field", "GET / HTTP/1.1\r\nHost: h\r\nX-Long: a\r\n b\r\n\r\n", 400},
    {"a folded field with a tab", "GET / HTTP/1.1\r\nHost: h\r\nX-Long: a\r\n\tb\r\n\r\n", 400},
    {"a folded Transfer-Encoding", post_head("Transfer-Encoding:\r\n chunked\r\n") + "0\r\n\r\n", 400},
    {"a folded Content-Length", post_head("Content-Length:\r\n 3\r\n") + "abc", 400},
    {"whitespace before the first field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400},
  }));
  check_refused(bad);
}

TEST_CASE("the server refuses an HTTP/1.1 request without exactly one valid Host field", "[http_server][framing]") {
  auto bad = GENERATE(values<refused_case>({
    {"no Host", "GET / HTTP/1.1\r\n\r\n", 400},
    {"two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
    {"two equal Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400},
    {"a Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
    {"a Host with a path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
    {"a Host with user info", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400},
    {"a Host with a letter in the port", "GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n", 400},
    {"a Host with an unclosed bracket", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},
    {"two Host fields in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400},
  }));
  check_refused(bad);
}

TEST_CASE("the server refuses whitespace between a field name and its colon", "[http_server][framing]") {
  auto bad = GENERATE(values<refused_case>({
    {"a space", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
    {"a tab", "GET / HTTP/1.1\r\nHost: h\r\nX\t: y\r\n\r\n", 400},
    {"before Transfer-Encoding", post_head("Transfer-Encoding : chunked\r\n") + "0\r\n\r\n", 400},
  }));
  check_refused(bad);
}

TEST_CASE("the server refuses bare CR, bare LF and NUL in the request line and the fields", "[http_server][framing]") {
  using namespace std::string_literals;
  auto bad = GENERATE(values<refused_case>({
    {"bare CR in the target", "GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n", 400},
    {"NUL in the target", "GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n"s, 400},
    {"bare CR after the version", "GET / HTTP/1.1\r\rHost: h\r\n\r\n", 400},
    {"bare LF after the request line", "GET / HTTP/1.1\nHost: h\r\n\r\n", 400},
    {"bare CR in a value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400},
    {"bare LF in a value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n", 400},
    {"NUL in a value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n"s, 400},
    {"NUL in a name", "GET / HTTP/1.1\r\nHost: h\r\nX\0Y: a\r\n\r\n"s, 400},
    {"a field line ended by a bare LF", "GET / HTTP/1.1\r\nHost: h\nX: a\r\n\r\n", 400},
  }));
  check_refused(bad);
}

TEST_CASE("the server refuses Transfer-Encoding in an HTTP/1.0 request", "[http_server][framing]") {
  check_refused({"HTTP/1.0 chunked", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + hidden_request,
                 400});
}

TEST_CASE("the server refuses an HTTP/2 connection preface", "[http_server][framing]") {
  using namespace std::string_literals;
  // The preface, then an empty SETTINGS frame: length 0, type 4, flags 0, stream 0.
  auto preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"s + "\0\0\0\4\0\0\0\0\0"s;
  check_refused({"HTTP/2 prior knowledge", preface, 400});
}

TEST_CASE("the server refuses an expectation other than 100-continue without reading the body",
          "[http_server][framing]") {
  check_refused({"Expect: teapot", post_head("Content-Length: 3\r\nExpect: teapot\r\n") + "abc", 417});
  check_refused({"Expect: 100-continue, teapot",
                 post_head("Content-Length: 3\r\nExpect: 100-continue, teapot\r\n") + "abc", 417});
}

TEST_CASE("the server refuses a chunk header or trailer section longer than the header limit",
          "[http_server][framing]") {
  auto opts = local_options();
  opts.header_limit = 256;
  check_refused({"a long chunk extension",
                 post_head("Transfer-Encoding: chunked\r\n") + "3;ext=" + std::string(512, 'x')
                   + "\r\nabc\r\n0\r\n\r\n",
                 400},
                opts);
  check_refused({"a long trailer section",
                 post_head("Transfer-Encoding: chunked\r\n") + "3\r\nabc\r\n0\r\nX-T: " + std::string(512, 'x')
                   + "\r\n\r\n",
                 400},
                opts);
}

TEST_CASE("a refused request ends a pipeline: the requests after it are not run", "[http_server][framing]") {
  io_runtime io{1};
  echo_handler handler;
  auto server = start_http_server(io, local_options(), handler);
  raw_http_client client{server->port()};
  client.send(get_request("/first") + post_head("Transfer-Encoding: gzip\r\n") + get_request("/after"));
  auto first = client.read_response();
  REQUIRE(first);
  CHECK(first->status == 200);
  CHECK(first->body == "GET /first ");
  auto refused = client.read_response();
  REQUIRE(refused);
  CHECK(refused->status == 400);
  CHECK(client.wait_closed(test_deadline));
  CHECK(*handler.calls == 1);
}

TEST_CASE("bytes after a request's body are read as the next request and refused when malformed",
          "[http_server][framing]") {
  io_runtime io{1};
  echo_handler handler;
  auto server = start_http_server(io, local_options(), handler);
  raw_http_client client{server->port()};
  client.send(post_head("Content-Length: 5\r\n") + "hello" + "garbage\r\n\r\n");
  auto answered = client.read_response();
  REQUIRE(answered);
  CHECK(answered->status == 200);
  CHECK(answered->body == "POST /health hello");
  auto refused = client.read_response();
  REQUIRE(refused);
  CHECK(refused->status == 400);
  CHECK(client.wait_closed(test_deadline));
  CHECK(*handler.calls == 1);
}

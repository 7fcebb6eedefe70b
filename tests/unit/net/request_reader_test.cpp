#include "net/detail/request_reader.hpp"

#include <cstddef>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "read_requests.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

constexpr std::size_t header_limit = 256;
constexpr std::size_t body_limit = 64;

/// Returns a function that gives `size` every time: pieces of one size.
auto pieces_of(std::size_t size) {
  return [size] { return size; };
}

/// Reads `stream` delivered whole.
read_outcome read_whole(const std::string& stream) {
  return read_requests(stream, header_limit, body_limit, pieces_of(stream.size()));
}

/// Reads `stream` (one complete request) with a fresh reader and returns it.
request_reader read_one(const std::string& stream) {
  request_reader reader{header_limit, body_limit};
  CHECK(reader.put(stream) == stream.size());
  return reader;
}

} // namespace

TEST_CASE("request_reader uses a request's bytes and leaves the next request's alone", "[request_reader]") {
  std::string first = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
  std::string second = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  request_reader reader{header_limit, body_limit};
  CHECK(reader.put(first + second) == first.size());
  REQUIRE(reader.progress() == request_reader::phase::done);
  auto req = reader.release();
  CHECK(req.method == "POST");
  CHECK(req.target == "/a");
  CHECK(req.field("host") == "h");
  CHECK(req.body == "abc");
}

TEST_CASE("request_reader waits for the whole head before it uses any of it", "[request_reader]") {
  std::string head = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n";
  request_reader reader{header_limit, body_limit};
  for (std::size_t size = 0; size < head.size(); ++size) {
    CHECK(reader.put(head.substr(0, size)) == 0);
    CHECK(reader.progress() == request_reader::phase::head);
  }
  CHECK(reader.put(head + "a") == head.size() + 1);
  CHECK(reader.progress() == request_reader::phase::body);
  CHECK(reader.put("bc") == 2);
  REQUIRE(reader.progress() == request_reader::phase::done);
  CHECK(reader.release().body == "abc");
}

TEST_CASE("request_reader splits a stream the same way whatever pieces it arrives in", "[request_reader]") {
  auto stream = GENERATE(as<std::string>{},
    "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
    "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
    "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;x=\"y\"\r\nabc\r\n10\r\n0123456789abcdef\r\n"
    "0\r\nX-T: 1\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nz",
    "PUT /a HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhiGET /b HTTP/1.0\r\n\r\n",
    "GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\nGET /c",
    "GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 65\r\n\r\n",
    "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;" + std::string(300, 'e')
      + "\r\nx\r\n0\r\n\r\n",
    "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab");
  auto whole = read_whole(stream);
  for (std::size_t size : {1, 2, 3, 7, 64}) {
    INFO("pieces of " << size);
    auto pieces = read_requests(stream, header_limit, body_limit, pieces_of(size));
    REQUIRE(pieces.requests.size() == whole.requests.size());
    for (std::size_t i = 0; i < whole.requests.size(); ++i) {
      CHECK(pieces.requests[i].method == whole.requests[i].method);
      CHECK(pieces.requests[i].target == whole.requests[i].target);
      CHECK(pieces.requests[i].fields == whole.requests[i].fields);
      CHECK(pieces.requests[i].body == whole.requests[i].body);
    }
    CHECK(pieces.ends == whole.ends);
    CHECK(pieces.refusal.has_value() == whole.refusal.has_value());
    if (pieces.refusal && whole.refusal) {
      CHECK(pieces.refusal->status == whole.refusal->status);
      CHECK(pieces.refusal->message == whole.refusal->message);
    }
    CHECK(pieces.unfinished == whole.unfinished);
  }
}

TEST_CASE("request_reader refuses with a status, a message and the field at fault", "[request_reader]") {
  struct refused {
    std::string request;
    int status;
    std::string field;
    std::string message;
  };
  auto bad = GENERATE(values<refused>({
    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 400, "Transfer-Encoding",
     "the body length is unknown: Transfer-Encoding is not chunked"},
    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "Transfer-Encoding",
     "transfer codings other than one chunked are not supported"},
    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\n", 400, "Content-Length",
     "Content-Length together with Transfer-Encoding"},
    {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "Transfer-Encoding",
     "Transfer-Encoding in an HTTP/1.0 request"},
    {"GET / HTTP/1.1\r\n\r\n", 400, "Host", "an HTTP/1.1 request needs a Host field"},
    {"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, "Host", "more than one Host field"},
    {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "Host", "the Host field is not host[:port]"},
    {"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400, "headers",
     "obsolete line folding (a line that starts with whitespace)"},
    {"GET / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n", 417, "Expect",
     "the only expectation supported is 100-continue"},
    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 65\r\n\r\n", 413, "body", "request body exceeds 64 bytes"},
    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n" + std::string(65, 'x'), 413, "body",
     "request body exceeds 64 bytes"},
    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "request",
     "malformed HTTP request: bad Content-Length"},
    {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, "request",
     "malformed HTTP request: the method is not a token"},
    {"GET /" + std::string(300, 'a') + " HTTP/1.1\r\n\r\n", 431, "headers", "request header exceeds 256 bytes"},
  }));
  INFO(bad.request);
  request_reader reader{header_limit, body_limit};
  reader.put(bad.request);
  REQUIRE(reader.progress() == request_reader::phase::refused);
  CHECK(reader.refusal().status == bad.status);
  CHECK(reader.refusal().field == bad.field);
  CHECK(reader.refusal().message == bad.message);
}

TEST_CASE("request_reader takes a head of exactly the header limit and refuses one byte more", "[request_reader]") {
  std::string start = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
  std::string end = "\r\n\r\n";
  std::string fits = start + std::string(header_limit - start.size() - end.size(), 'x') + end;
  REQUIRE(fits.size() == header_limit);
  CHECK(read_one(fits).progress() == request_reader::phase::done);
  request_reader reader{header_limit, body_limit};
  reader.put(start + std::string(header_limit - start.size() - end.size() + 1, 'x') + end);
  REQUIRE(reader.progress() == request_reader::phase::refused);
  CHECK(reader.refusal().status == 431);
}

TEST_CASE("request_reader tells who expects 100 Continue", "[request_reader]") {
  CHECK(read_one("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx").expects_continue());
  CHECK(read_one("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-CONTINUE\r\n\r\n").expects_continue());
  CHECK_FALSE(read_one("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx").expects_continue());
  CHECK_FALSE(read_one("PUT / HTTP/1.1\r\nHost: h\r\nExpect: \r\n\r\n").expects_continue());
  CHECK_FALSE(read_one("PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx").expects_continue());
  CHECK_FALSE(read_one("PUT / HTTP/1.0\r\nExpect: teapot\r\n\r\n").expects_continue());
}

TEST_CASE("request_reader tells whether the connection may carry another request", "[request_reader]") {
  auto http11 = read_one("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(http11.keep_alive());
  CHECK_FALSE(http11.http10());
  CHECK_FALSE(read_one("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keep_alive());
  auto http10 = read_one("GET / HTTP/1.0\r\n\r\n");
  CHECK_FALSE(http10.keep_alive());
  CHECK(http10.http10());
  CHECK(read_one("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive());
}

TEST_CASE("request_reader leaves trailer fields out of the request", "[request_reader]") {
  auto reader = read_one("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "2\r\nhi\r\n0\r\nHost: other\r\nX-Trailer: 1\r\n\r\n");
  REQUIRE(reader.progress() == request_reader::phase::done);
  auto req = reader.release();
  CHECK(req.body == "hi");
  CHECK(req.fields == http_fields{{"Host", "h"}, {"Transfer-Encoding", "chunked"}});
}

#include "core/url.hpp"

#include <vector>

#include <catch2/catch.hpp>

using feedrouter::parse_url;
using feedrouter::percent_decode;
using feedrouter::percent_encode;

TEST_CASE("parse_url splits an http URL into scheme, host, port and target", "[url]") {
  auto u = parse_url("http://controller.example:3233/api/v1/namespaces/_/triggers/t?blocking=false", "url");
  REQUIRE(u);
  CHECK(u->scheme == "http");
  CHECK(u->host == "controller.example");
  CHECK(u->port == 3233);
  CHECK(u->target == "/api/v1/namespaces/_/triggers/t?blocking=false");
}

TEST_CASE("parse_url takes the port from the scheme when none is given", "[url]") {
  auto http = parse_url("http://example.com/x", "url");
  REQUIRE(http);
  CHECK(http->port == 80);
  auto https = parse_url("https://example.com/x", "url");
  REQUIRE(https);
  CHECK(https->port == 443);
}

TEST_CASE("parse_url defaults the target to a slash", "[url]") {
  auto bare = parse_url("http://example.com", "url");
  REQUIRE(bare);
  CHECK(bare->target == "/");
  auto with_port = parse_url("http://example.com:8080", "url");
  REQUIRE(with_port);
  CHECK(with_port->target == "/");
  auto query_only = parse_url("http://example.com?since=now", "url");
  REQUIRE(query_only);
  CHECK(query_only->host == "example.com");
  CHECK(query_only->target == "/?since=now");
}

TEST_CASE("parse_url lower-cases the scheme and the host but not the target", "[url]") {
  auto u = parse_url("HTTP://Example.COM/Path", "url");
  REQUIRE(u);
  CHECK(u->scheme == "http");
  CHECK(u->host == "example.com");
  CHECK(u->target == "/Path");
}

TEST_CASE("parse_url accepts IPv4 and bracketed IPv6 addresses", "[url]") {
  auto v4 = parse_url("http://127.0.0.1:5984/db", "url");
  REQUIRE(v4);
  CHECK(v4->host == "127.0.0.1");
  CHECK(v4->port == 5984);
  auto v6 = parse_url("http://[::1]:8080/x", "url");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 8080);
  CHECK(v6->target == "/x");
  auto v6_default_port = parse_url("https://[2001:db8::7]", "url");
  REQUIRE(v6_default_port);
  CHECK(v6_default_port->host == "2001:db8::7");
  CHECK(v6_default_port->port == 443);
}

TEST_CASE("parse_url accepts the whole port range", "[url]") {
  auto low = parse_url("http://h:1/", "url");
  REQUIRE(low);
  CHECK(low->port == 1);
  auto high = parse_url("http://h:65535/", "url");
  REQUIRE(high);
  CHECK(high->port == 65535);
}

TEST_CASE("parse_url rejects other schemes and relative URLs", "[url]") {
  CHECK_FALSE(parse_url("ftp://example.com/", "url"));
  CHECK_FALSE(parse_url("ws://example.com/", "url"));
  CHECK_FALSE(parse_url("example.com/path", "url"));
  CHECK_FALSE(parse_url("/path", "url"));
  CHECK_FALSE(parse_url("", "url"));
}

TEST_CASE("parse_url with schemes of its own takes their default ports and names them when refusing", "[url]") {
  const std::vector<feedrouter::url_scheme> brokers = {{"mqtt", 1883}, {"mqtts", 8883}};
  auto plain = parse_url("MQTT://Broker.example", "url", brokers);
  REQUIRE(plain);
  CHECK(plain->scheme == "mqtt");
  CHECK(plain->host == "broker.example");
  CHECK(plain->port == 1883);
  auto secure = parse_url("mqtts://[::1]:9000", "url", brokers);
  REQUIRE(secure);
  CHECK(secure->port == 9000);
  auto http = parse_url("http://broker.example", "url", brokers);
  REQUIRE_FALSE(http);
  CHECK(http.error().message == "must use the mqtt or mqtts scheme");
  auto relative = parse_url("broker.example", "url", brokers);
  REQUIRE_FALSE(relative);
  CHECK(relative.error().message == "must be an absolute mqtt or mqtts URL");
  CHECK(parse_url("ftp://x", "url").error().message == "must use the http or https scheme");
}

TEST_CASE("parse_url requires a host", "[url]") {
  CHECK_FALSE(parse_url("http://", "url"));
  CHECK_FALSE(parse_url("http:///path", "url"));
  CHECK_FALSE(parse_url("http://:8080/", "url"));
  CHECK_FALSE(parse_url("http://[]:8080/", "url"));
}

TEST_CASE("parse_url rejects ports outside 1 to 65535", "[url]") {
  CHECK_FALSE(parse_url("http://h:0/", "url"));
  CHECK_FALSE(parse_url("http://h:65536/", "url"));
  CHECK_FALSE(parse_url("http://h:123456/", "url"));
  CHECK_FALSE(parse_url("http://h:/", "url"));
  CHECK_FALSE(parse_url("http://h:80a/", "url"));
  CHECK_FALSE(parse_url("http://h:-1/", "url"));
}

TEST_CASE("parse_url rejects user info, fragments and whitespace", "[url]") {
  CHECK_FALSE(parse_url("http://user:secret@example.com/", "url"));
  CHECK_FALSE(parse_url("http://user@example.com/", "url"));
  CHECK_FALSE(parse_url("http://example.com/page#section", "url"));
  CHECK_FALSE(parse_url("http://example.com/a b", "url"));
  CHECK_FALSE(parse_url(" http://example.com/", "url"));
  CHECK_FALSE(parse_url("http://example.com/\t", "url"));
  CHECK_FALSE(parse_url("http://example.com/\n", "url"));
}

TEST_CASE("parse_url rejects malformed hosts", "[url]") {
  CHECK_FALSE(parse_url("http://::1/", "url"));
  CHECK_FALSE(parse_url("http://[::1/", "url"));
  CHECK_FALSE(parse_url("http://[::1]x/", "url"));
  CHECK_FALSE(parse_url("http://exa!mple.com/", "url"));
}

TEST_CASE("parse_url errors name the field they were given", "[url]") {
  auto u = parse_url("ftp://example.com/", "apihost");
  REQUIRE_FALSE(u);
  CHECK(u.error().field == "apihost");
  CHECK_FALSE(u.error().message.empty());
  auto w = parse_url("http://a b/", "url");
  REQUIRE_FALSE(w);
  CHECK(w.error().field == "url");
}

TEST_CASE("origin names scheme, host and port", "[url]") {
  CHECK(parse_url("http://Example.com/x", "url")->origin() == "http://example.com:80");
  CHECK(parse_url("https://example.com:8443/x?y", "url")->origin() == "https://example.com:8443");
  CHECK(parse_url("http://[::1]:8080/", "url")->origin() == "http://[::1]:8080");
}

TEST_CASE("percent_encode keeps unreserved characters and escapes every other byte", "[url]") {
  CHECK(percent_encode("AZaz09-._~") == "AZaz09-._~");
  CHECK(percent_encode("a b/c?d#e%f") == "a%20b%2Fc%3Fd%23e%25f");
  CHECK(percent_encode("caf\xc3\xa9") == "caf%C3%A9");
  CHECK(percent_encode("") == "");
}

TEST_CASE("percent_decode reverses percent_encode", "[url]") {
  for (std::string text : {"plain", "a b/c?d#e%f", "caf\xc3\xa9", "", "%%", "user@ns"})
    CHECK(percent_decode(percent_encode(text)) == text);
  CHECK(percent_decode("a%2fb") == std::string{"a/b"});
  CHECK(percent_decode("a+b") == std::string{"a+b"});
}

TEST_CASE("percent_decode rejects malformed escapes", "[url]") {
  CHECK_FALSE(percent_decode("%"));
  CHECK_FALSE(percent_decode("abc%2"));
  CHECK_FALSE(percent_decode("%zz"));
  CHECK_FALSE(percent_decode("%g0"));
  CHECK_FALSE(percent_decode("100%"));
}

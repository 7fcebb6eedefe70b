#include "core/text.hpp"

#include <string>

#include <catch2/catch.hpp>

using namespace feedrouter;

TEST_CASE("iequals ignores ASCII case only", "[text]") {
  CHECK(iequals("Content-Length", "content-length"));
  CHECK(iequals("", ""));
  CHECK_FALSE(iequals("chunked", "chunked "));
  CHECK_FALSE(iequals("\xc3\x84", "\xc3\xa4")); // A and a umlaut: not ASCII, so not folded
}

TEST_CASE("istarts_with compares the prefix ignoring ASCII case", "[text]") {
  CHECK(istarts_with("Basic abc", "basic "));
  CHECK(istarts_with("sha256=", "SHA256="));
  CHECK_FALSE(istarts_with("Bas", "Basic"));
}

TEST_CASE("ascii_lowercase lower-cases capitals and keeps other bytes", "[text]") {
  CHECK(ascii_lowercase("AbC-1\xc3\x84") == "abc-1\xc3\x84");
}

TEST_CASE("trim_ows removes spaces and tabs at both ends only", "[text]") {
  CHECK(trim_ows(" \t a b \t") == "a b");
  CHECK(trim_ows(" \t ").empty());
  CHECK(trim_ows("\na\n") == "\na\n");
}

TEST_CASE("has_token finds a token in a comma-separated list", "[text]") {
  CHECK(has_token("keep-alive, Close", "close"));
  CHECK(has_token("close", "close"));
  CHECK_FALSE(has_token("closed, keep-alive", "close"));
  CHECK_FALSE(has_token("", "close"));
}

TEST_CASE("has_line_break finds CR and LF", "[text]") {
  CHECK(has_line_break("a\rb"));
  CHECK(has_line_break("a\nb"));
  CHECK_FALSE(has_line_break("a\tb"));
}

TEST_CASE("to_hex writes two lower-case digits per byte", "[text]") {
  CHECK(to_hex(std::string{"\x00\x7f\xff", 3}) == "007fff");
  CHECK(to_hex("").empty());
}

TEST_CASE("append_hex_u64 and parse_hex_u64 round trip 64-bit values", "[text]") {
  for (std::uint64_t value : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{0x0123456789abcdef}, ~std::uint64_t{0}}) {
    std::string out;
    append_hex_u64(out, value);
    CHECK(out.size() == 16);
    CHECK(parse_hex_u64(out) == value);
  }
}

TEST_CASE("parse_hex_u64 refuses what is not 1 to 16 lower-case hex digits", "[text]") {
  CHECK_FALSE(parse_hex_u64(""));
  CHECK_FALSE(parse_hex_u64("ABC"));
  CHECK_FALSE(parse_hex_u64("12345678901234567"));
  CHECK_FALSE(parse_hex_u64("-1"));
  CHECK(parse_hex_u64("ff") == 255);
}

TEST_CASE("format_host_port brackets IPv6 addresses", "[text]") {
  CHECK(format_host_port("example.com", 443) == "example.com:443");
  CHECK(format_host_port("::1", 8080) == "[::1]:8080");
}

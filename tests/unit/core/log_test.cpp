#include "core/log.hpp"

#include <string>
#include <string_view>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "core/json.hpp"

using namespace feedrouter;

namespace {

constexpr std::string_view ts = "2026-01-02T03:04:05.678Z";

/// Returns the members of a JSON line, which must be one object followed by one newline.
json_members parse_line(const std::string& line) {
  REQUIRE(!line.empty());
  CHECK(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  CHECK(simdjson::validate_utf8(line.data(), line.size()));
  auto parsed = parse_json_object(std::string_view{line}.substr(0, line.size() - 1), "line");
  INFO(line);
  REQUIRE(parsed);
  return *parsed;
}

std::string string_member(const json_members& members, std::string_view name) {
  const auto* raw = find_member(members, name);
  REQUIRE(raw != nullptr);
  auto text = json_as_string(*raw);
  REQUIRE(text);
  return *text;
}

} // namespace

TEST_CASE("a JSON line has ts, level, msg and each field with its type", "[log]") {
  auto line = format_log_line(log_format::json, ts, log_level::debug, "fired",
                              {{"namespace", "guest"}, {"trigger", std::string{"t1"}}, {"statusCode", 202},
                               {"activationId", "a1b2"}, {"attempt", 1}});
  auto members = parse_line(line);
  CHECK(string_member(members, "ts") == ts);
  CHECK(string_member(members, "level") == "debug");
  CHECK(string_member(members, "msg") == "fired");
  CHECK(string_member(members, "namespace") == "guest");
  CHECK(string_member(members, "trigger") == "t1");
  CHECK(*find_member(members, "statusCode") == "202");
  CHECK(*find_member(members, "attempt") == "1");
  CHECK(string_member(members, "activationId") == "a1b2");
}

TEST_CASE("a JSON line stays one line of valid JSON and UTF-8 whatever the text holds", "[log]") {
  std::string hostile = "line one\nline two\r\t\"quoted\" \\ \x01 \xff\xfe bytes";
  auto line = format_log_line(log_format::json, ts, log_level::warn, hostile, {{"trigger", hostile}});
  auto members = parse_line(line);
  CHECK(string_member(members, "msg").find("line one\nline two") == 0);
}

TEST_CASE("a JSON line keeps valid UTF-8 text as it is", "[log]") {
  auto line = format_log_line(log_format::json, ts, log_level::info, "caf\xc3\xa9 \xe2\x9c\x93", {});
  CHECK(string_member(parse_line(line), "msg") == "caf\xc3\xa9 \xe2\x9c\x93");
}

TEST_CASE("a text line is timestamp, level, message and key=value fields", "[log]") {
  auto line = format_log_line(log_format::text, ts, log_level::info, "fired",
                              {{"trigger", "t1"}, {"statusCode", 202}, {"error", "HTTP 503: try later"}});
  CHECK(line == std::string{ts} + " info fired trigger=t1 statusCode=202 error=\"HTTP 503: try later\"\n");
}

TEST_CASE("a text line escapes line breaks, control bytes, quotes and invalid UTF-8", "[log]") {
  auto line = format_log_line(log_format::text, ts, log_level::warn, "a\nb\x01", {{"v", "say \"hi\"\\"}, {"e", ""}});
  CHECK(line == std::string{ts} + " warn a\\nb\\x01 v=\"say \\\"hi\\\"\\\\\" e=\"\"\n");
  auto bytes = format_log_line(log_format::text, ts, log_level::warn, "\xff ok", {});
  CHECK(bytes == std::string{ts} + " warn \\xff ok\n");
  CHECK(simdjson::validate_utf8(bytes.data(), bytes.size()));
}

TEST_CASE("log formats and levels parse from their names only", "[log]") {
  CHECK(parse_log_format("text") == log_format::text);
  CHECK(parse_log_format("json") == log_format::json);
  CHECK_FALSE(parse_log_format("JSON"));
  CHECK_FALSE(parse_log_format(""));
  CHECK(parse_log_level("debug") == log_level::debug);
  CHECK_FALSE(parse_log_level("trace"));
}

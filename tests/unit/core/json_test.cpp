#include "core/json.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

using namespace feedrouter;
using Catch::Matchers::Contains;

namespace {

json_members parse(std::string_view text) {
  auto parsed = parse_json_object(text, "body");
  INFO(text << ": " << (parsed ? std::string{} : parsed.error().message));
  REQUIRE(parsed);
  return *parsed;
}

json_members members(std::vector<std::pair<std::string, std::string>> list) {
  return list;
}

std::string quoted(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

} // namespace

// -- parse_json_object --------------------------------------------------------

TEST_CASE("an object parses into its members in input order", "[json]") {
  auto m = parse(R"({"b": 1, "a": "x", "c": true, "d": null, "e": -2.5})");
  CHECK(m == members({{"b", "1"}, {"a", "\"x\""}, {"c", "true"}, {"d", "null"}, {"e", "-2.5"}}));
}

TEST_CASE("nested values are kept as minified raw JSON", "[json]") {
  auto m = parse("{ \"outer\" : { \"list\" : [ 1 , 2 , { \"x\" : null } ] ,\n \"s\" : \"a b\" } }");
  REQUIRE(m.size() == 1);
  CHECK(m[0].first == "outer");
  CHECK(m[0].second == R"({"list":[1,2,{"x":null}],"s":"a b"})");
  CHECK(parse(m[0].second) == parse(R"({"list": [1, 2, {"x": null}], "s": "a b"})"));
}

TEST_CASE("an empty object has no members", "[json]") {
  CHECK(parse("{}").empty());
  CHECK(parse(" \n{ }\t").empty());
}

TEST_CASE("a string member keeps its escapes readable", "[json]") {
  auto m = parse(R"({"s": "quote \" backslash \\ newline \n unicode \u00e9"})");
  REQUIRE(m.size() == 1);
  CHECK(json_as_string(m[0].second) == std::string{"quote \" backslash \\ newline \n unicode \xc3\xa9"});
}

TEST_CASE("a member name with escapes is unescaped", "[json]") {
  auto m = parse(R"({"we\"ird\\name": 1})");
  REQUIRE(m.size() == 1);
  CHECK(m[0].first == "we\"ird\\name");
}

TEST_CASE("a JSON value that is not an object is an error naming the field", "[json]") {
  for (auto text : {"[1, 2]", "\"text\"", "5", "null", "true"}) {
    INFO(text);
    auto parsed = parse_json_object(text, "trigger_payload");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().field == "trigger_payload");
    CHECK_THAT(parsed.error().message, Contains("object"));
  }
}

TEST_CASE("invalid JSON is an error naming the field", "[json]") {
  for (auto text : {"", "{", "{\"a\":}", "{\"a\" 1}", "{'a': 1}", "{\"a\": 1,}", "{\"a\": 1} trailing", "nul",
                    "{\"a\": tru}"}) {
    INFO("'" << text << "'");
    auto parsed = parse_json_object(text, "body");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().field == "body");
    CHECK_FALSE(parsed.error().message.empty());
  }
}

TEST_CASE("a duplicate key is an error naming the key", "[json]") {
  auto parsed = parse_json_object(R"({"a": 1, "cron": "* * * * *", "cron": "0 * * * *"})", "body");
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().field == "cron");
  CHECK_THAT(parsed.error().message, Contains("twice"));
}

// -- members --------------------------------------------------------------------

TEST_CASE("to_json_object writes members that parse back to the same members", "[json]") {
  auto original = parse(R"({"a": 1, "b": [1, {"c": "d"}], "e\"f": "g\\h", "i": {}})");
  auto text = to_json_object(original);
  CHECK(parse(text) == original);
  CHECK(to_json_object({}) == "{}");
  CHECK(to_json_object(members({{"x", "1"}, {"y", "\"z\""}})) == R"({"x":1,"y":"z"})");
}

TEST_CASE("find_member returns the raw value or nullptr", "[json]") {
  auto m = parse(R"({"a": 1, "b": "x"})");
  REQUIRE(find_member(m, "b") != nullptr);
  CHECK(*find_member(m, "b") == "\"x\"");
  CHECK(find_member(m, "c") == nullptr);
  CHECK(find_member(m, "") == nullptr);
  CHECK(find_member({}, "a") == nullptr);
}

TEST_CASE("merge_members replaces members in place and appends new ones in order", "[json]") {
  auto base = members({{"a", "1"}, {"b", "2"}, {"c", "3"}});
  auto merged = merge_members(base, members({{"d", "4"}, {"b", "20"}, {"e", "5"}}));
  CHECK(merged == members({{"a", "1"}, {"b", "20"}, {"c", "3"}, {"d", "4"}, {"e", "5"}}));
  CHECK(merge_members(base, {}) == base);
  CHECK(merge_members({}, base) == base);
}

TEST_CASE("without_members drops the named members and keeps the order of the rest", "[json]") {
  auto m = members({{"feed", "\"alarm\""}, {"a", "1"}, {"authKey", "\"k\""}, {"b", "2"}});
  CHECK(without_members(m, {"feed", "authKey", "not-there"}) == members({{"a", "1"}, {"b", "2"}}));
  CHECK(without_members(m, {}) == m);
  CHECK(without_members(m, {"feed", "a", "authKey", "b"}).empty());
}

// -- reading raw values -----------------------------------------------------------

TEST_CASE("json_as_string reads strings only", "[json]") {
  CHECK(json_as_string(R"("abc")") == std::string{"abc"});
  CHECK(json_as_string(R"("")") == std::string{});
  CHECK(json_as_string(R"("a\"b\\c\nd")") == std::string{"a\"b\\c\nd"});
  CHECK(json_as_string(R"("\u0000x")") == std::string{"\0x", 2});
  CHECK_FALSE(json_as_string("5"));
  CHECK_FALSE(json_as_string("null"));
  CHECK_FALSE(json_as_string("[\"a\"]"));
  CHECK_FALSE(json_as_string("abc"));
  CHECK_FALSE(json_as_string(""));
}

TEST_CASE("json_as_int reads integral numbers", "[json]") {
  CHECK(json_as_int("0") == std::int64_t{0});
  CHECK(json_as_int("-3") == std::int64_t{-3});
  CHECK(json_as_int("5.0") == std::int64_t{5});
  CHECK(json_as_int("1e3") == std::int64_t{1000});
  CHECK(json_as_int("-0.0") == std::int64_t{0});
  CHECK(json_as_int("9223372036854775807") == std::numeric_limits<std::int64_t>::max());
  CHECK(json_as_int("-9223372036854775808") == std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("json_as_int rejects fractions, out-of-range numbers and other types", "[json]") {
  for (auto raw : {"5.5", "0.1", "9223372036854775808", "18446744073709551615", "1e19", "-1e19", "1e300", "\"5\"",
                   "true", "null", "[1]", "", "5 6"}) {
    INFO("'" << raw << "'");
    CHECK_FALSE(json_as_int(raw));
  }
}

TEST_CASE("json_as_bool reads true and false only", "[json]") {
  CHECK(json_as_bool("true") == true);
  CHECK(json_as_bool("false") == false);
  for (auto raw : {"\"true\"", "1", "0", "null", "True", ""}) {
    INFO("'" << raw << "'");
    CHECK_FALSE(json_as_bool(raw));
  }
}

TEST_CASE("json_is_object tells objects from everything else", "[json]") {
  CHECK(json_is_object("{}"));
  CHECK(json_is_object(R"({"a": [1]})"));
  for (auto raw : {"[]", "\"{}\"", "null", "1", "", "{", "{} {}"}) {
    INFO("'" << raw << "'");
    CHECK_FALSE(json_is_object(raw));
  }
}

// -- writing ----------------------------------------------------------------------

TEST_CASE("append_json_string escapes quotes, backslashes and control characters", "[json]") {
  CHECK(quoted("plain") == R"("plain")");
  CHECK(quoted("") == R"("")");
  CHECK(quoted(R"(a"b\c)") == R"("a\"b\\c")");
  CHECK(quoted("\n\r\t") == R"("\n\r\t")");
  CHECK(quoted(std::string_view{"\0\x01\x1f", 3}) == R"("\u0000\u0001\u001f")");
  CHECK(quoted("\x7f") == "\"\x7f\"");
  CHECK(quoted("caf\xc3\xa9") == "\"caf\xc3\xa9\"");
  std::string out = "prefix:";
  append_json_string(out, "x");
  CHECK(out == R"(prefix:"x")");
}

TEST_CASE("every character below 0x20 survives a write and a parse", "[json]") {
  std::string all;
  for (int c = 0; c < 0x20; ++c)
    all += static_cast<char>(c);
  all += "\"\\/ end";
  auto text = quoted(all);
  CHECK(json_as_string(text) == all);
}

TEST_CASE("json_writer places commas in nested objects and arrays", "[json]") {
  json_writer out;
  out.begin_object()
    .key("a").value(1)
    .key("b").begin_array().value("x").value(std::int64_t{-2}).begin_object().end_object().null().end_array()
    .key("c").value(true)
    .key("d").raw(R"({"z":[1]})")
    .key("e").begin_object().key("f").begin_array().end_array().key("g").value(false).end_object()
    .key("h").value("q\"uote")
    .end_object();
  CHECK(out.str() == R"({"a":1,"b":["x",-2,{},null],"c":true,"d":{"z":[1]},"e":{"f":[],"g":false},"h":"q\"uote"})");
  auto back = parse(out.str());
  REQUIRE(back.size() == 6);
  CHECK(back[1].second == R"(["x",-2,{},null])");
  CHECK(back[4].second == R"({"f":[],"g":false})");
  CHECK(json_as_string(back[5].second) == std::string{"q\"uote"});
}

TEST_CASE("json_writer writes arrays of objects and arrays", "[json]") {
  json_writer out;
  out.begin_array()
    .begin_object().key("a").value(1).end_object()
    .begin_object().key("b").value(2).end_object()
    .begin_array().end_array()
    .begin_array().value(1).begin_array().value(2).end_array().end_array()
    .end_array();
  CHECK(out.str() == R"([{"a":1},{"b":2},[],[1,[2]]])");
  auto wrapped = parse(R"({"v": )" + out.str() + "}");
  CHECK(wrapped[0].second == out.str());
}

TEST_CASE("json_writer writes a C string as a string, not a boolean", "[json]") {
  json_writer out;
  out.begin_array().value("text").value(std::string_view{"view"}).end_array();
  CHECK(out.str() == R"(["text","view"])");
}

TEST_CASE("json_writer escapes keys and string values so the output parses back", "[json]") {
  const std::string nasty = "k\"e\\y\n\t\x01";
  json_writer out;
  out.begin_object().key(nasty).value(nasty).key("n").value(std::numeric_limits<std::int64_t>::min()).end_object();
  auto back = parse(out.str());
  REQUIRE(back.size() == 2);
  CHECK(back[0].first == nasty);
  CHECK(json_as_string(back[0].second) == nasty);
  CHECK(json_as_int(back[1].second) == std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("json_writer take hands over the text", "[json]") {
  json_writer out;
  out.begin_object().key("a").value(1).end_object();
  CHECK(out.take() == R"({"a":1})");
}

TEST_CASE("json strings escape invalid UTF-8 byte by byte so the output stays valid JSON", "[json]") {
  std::string out;
  append_json_string(out, std::string{"a\xff\xfe" "b"});
  CHECK(out == "\"a\\u00ff\\u00feb\"");
  CHECK(parse_json_object("{\"k\":" + out + "}", "body"));
  std::string valid;
  append_json_string(valid, "caf\xc3\xa9");
  CHECK(valid == "\"caf\xc3\xa9\"");
}

#include "core/json_pointer.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "core/crypto.hpp"

using namespace feedrouter;

namespace {

/// The example document of RFC 6901 section 5.
constexpr std::string_view rfc_document = R"({
  "foo": ["bar", "baz"],
  "": 0,
  "a/b": 1,
  "c%d": 2,
  "e^f": 3,
  "g|h": 4,
  "i\\j": 5,
  "k\"l": 6,
  " ": 7,
  "m~n": 8
})";

json_pointer pointer(std::string_view text) {
  auto parsed = parse_json_pointer(text, "itemsPointer");
  INFO("pointer: " << text);
  REQUIRE(parsed);
  return *parsed;
}

std::optional<std::string> at(std::string_view ptr, std::string_view document) {
  return resolve(pointer(ptr), document);
}

using strings = std::vector<std::string>;

} // namespace

// -- parse_json_pointer ---------------------------------------------------------------------

TEST_CASE("parse_json_pointer splits a pointer into decoded tokens", "[json_pointer]") {
  CHECK(pointer("").tokens.empty());
  CHECK(pointer("/").tokens == strings{""});
  CHECK(pointer("/a/0/b").tokens == strings{"a", "0", "b"});
  CHECK(pointer("//").tokens == strings{"", ""});
  CHECK(pointer("/a/").tokens == strings{"a", ""});
  CHECK(pointer("/a~1b/m~0n").tokens == strings{"a/b", "m~n"});
  CHECK(pointer("/ ").tokens == strings{" "});
}

TEST_CASE("parse_json_pointer decodes each escape where it stands", "[json_pointer]") {
  // "~01" is "~" followed by "1", never "/".
  CHECK(pointer("/~01").tokens == strings{"~1"});
  CHECK(pointer("/~10").tokens == strings{"/0"});
  CHECK(pointer("/~0~0/~1~1").tokens == strings{"~~", "//"});
}

TEST_CASE("to_string writes a pointer parse_json_pointer reads back", "[json_pointer]") {
  for (std::string_view text : {"", "/", "/a/0/b", "/a~1b/m~0n", "/~01", "//", "/ "}) {
    INFO("pointer: " << text);
    CHECK(to_string(pointer(text)) == text);
  }
}

// -- resolve ----------------------------------------------------------------------------------

TEST_CASE("resolve finds every example of RFC 6901 section 5", "[json_pointer]") {
  CHECK(at("", rfc_document)
        == R"({"foo":["bar","baz"],"":0,"a/b":1,"c%d":2,"e^f":3,"g|h":4,"i\\j":5,"k\"l":6," ":7,"m~n":8})");
  CHECK(at("/foo", rfc_document) == R"(["bar","baz"])");
  CHECK(at("/foo/0", rfc_document) == R"("bar")");
  CHECK(at("/", rfc_document) == "0");
  CHECK(at("/a~1b", rfc_document) == "1");
  CHECK(at("/c%d", rfc_document) == "2");
  CHECK(at("/e^f", rfc_document) == "3");
  CHECK(at("/g|h", rfc_document) == "4");
  CHECK(at("/i\\j", rfc_document) == "5");
  CHECK(at("/k\"l", rfc_document) == "6");
  CHECK(at("/ ", rfc_document) == "7");
  CHECK(at("/m~0n", rfc_document) == "8");
}

TEST_CASE("resolve returns the target minified", "[json_pointer]") {
  constexpr std::string_view doc = R"({ "data" : { "items" : [ { "id" : 1 , "tags" : [ "a" , "b" ] } ] } })";
  CHECK(at("/data", doc) == R"({"items":[{"id":1,"tags":["a","b"]}]})");
  CHECK(at("/data/items/0/tags/1", doc) == R"("b")");
  CHECK(at("/data/items/0/id", doc) == "1");
}

TEST_CASE("resolve reaches into nested arrays", "[json_pointer]") {
  constexpr std::string_view doc = R"([[1, 2], [3, [4, 5]], true, null])";
  CHECK(at("/0/1", doc) == "2");
  CHECK(at("/1/1/0", doc) == "4");
  CHECK(at("/2", doc) == "true");
  CHECK(at("/3", doc) == "null");
}

TEST_CASE("resolve returns nullopt for paths that do not exist", "[json_pointer]") {
  CHECK_FALSE(at("/bar", rfc_document));
  CHECK_FALSE(at("/FOO", rfc_document)); // names are case-sensitive
  CHECK_FALSE(at("/foo/2", rfc_document));
  CHECK_FALSE(at("/foo/-", rfc_document)); // the element after the last
  CHECK_FALSE(at("/foo/01", rfc_document)); // no leading zeros
  CHECK_FALSE(at("/foo/+1", rfc_document));
  CHECK_FALSE(at("/foo/1x", rfc_document));
  CHECK_FALSE(at("/foo/", rfc_document));
  CHECK_FALSE(at("/foo/99999999999999999999999999", rfc_document));
  CHECK_FALSE(at("/foo/0/0", rfc_document)); // into a string
  CHECK_FALSE(at("/a~1b/x", rfc_document)); // into a number
  CHECK_FALSE(at("/a/b", rfc_document)); // "/" inside a name must be escaped
}

TEST_CASE("resolve keeps the first of duplicate names", "[json_pointer]") {
  CHECK(at("/a", R"({"a": 1, "a": 2})") == "1");
}

// -- resolve_array -------------------------------------------------------------------------------

TEST_CASE("resolve_array returns each element of the target array", "[json_pointer]") {
  CHECK(resolve_array(pointer("/foo"), rfc_document) == strings{R"("bar")", R"("baz")"});
  CHECK(resolve_array(pointer(""), R"([ {"id": 1}, [2, 3], "x", 4.5, null ])")
        == strings{R"({"id":1})", "[2,3]", R"("x")", "4.5", "null"});
  CHECK(resolve_array(pointer("/data/items"), R"({"data": {"items": []}})") == strings{});
}

TEST_CASE("resolve_array returns nullopt when the target is missing or not an array", "[json_pointer]") {
  CHECK_FALSE(resolve_array(pointer("/bar"), rfc_document));
  CHECK_FALSE(resolve_array(pointer(""), rfc_document));
  CHECK_FALSE(resolve_array(pointer("/foo/0"), rfc_document));
  CHECK_FALSE(resolve_array(pointer("/a~1b"), rfc_document));
}

// -- item_id -----------------------------------------------------------------------------------

TEST_CASE("item_id takes a string id without its quotes", "[json_pointer]") {
  const auto id = pointer("/id");
  CHECK(item_id(R"({"id": "abc-123", "title": "x"})", id) == "abc-123");
  CHECK(item_id(R"({"id": "caf\u00e9 \"quoted\""})", id) == "caf\xc3\xa9 \"quoted\"");
  CHECK(item_id(R"({"meta": {"guid": "g1"}})", pointer("/meta/guid")) == "g1");
}

TEST_CASE("item_id takes a number or boolean id as its JSON text", "[json_pointer]") {
  const auto id = pointer("/id");
  CHECK(item_id(R"({"id": 42})", id) == "42");
  CHECK(item_id(R"({"id": -7})", id) == "-7");
  CHECK(item_id(R"({"id": 18446744073709551615})", id) == "18446744073709551615");
  CHECK(item_id(R"({"id": 2.5})", id) == "2.5");
  CHECK(item_id(R"({"id": true})", id) == "true");
}

TEST_CASE("item_id hashes an object or array id", "[json_pointer]") {
  const auto id = pointer("/id");
  CHECK(item_id(R"({"id": {"a": 1, "b": [2]}})", id) == sha256_hex(R"({"a":1,"b":[2]})"));
  CHECK(item_id(R"({"id": [1, 2]})", id) == sha256_hex("[1,2]"));
}

TEST_CASE("item_id without a pointer hashes the minified item", "[json_pointer]") {
  constexpr std::string_view item = R"({ "title" : "x", "n" : [1, 2] })";
  const auto expected = sha256_hex(R"({"title":"x","n":[1,2]})");
  CHECK(item_id(item, std::nullopt) == expected);
  // Whitespace does not change the id.
  CHECK(item_id(R"({"title":"x","n":[1,2]})", std::nullopt) == expected);
  CHECK(item_id(R"("just a string")", std::nullopt) == sha256_hex(R"("just a string")"));
}

TEST_CASE("item_id hashes the item when the id is missing, null or empty", "[json_pointer]") {
  const auto id = pointer("/id");
  for (std::string_view item : {R"({"title": "x"})", R"({"id": null, "t": 1})", R"({"id": "", "t": 2})", "[1]"}) {
    INFO("item: " << item);
    CHECK(item_id(item, id) == item_id(item, std::nullopt));
  }
  // Different items without ids stay apart.
  CHECK(item_id(R"({"title": "x"})", id) != item_id(R"({"title": "y"})", id));
}

TEST_CASE("item_id replaces a very long id by its hash", "[json_pointer]") {
  const auto id = pointer("/id");
  const std::string longest(max_item_id_length, 'a');
  const std::string too_long(max_item_id_length + 1, 'a');
  CHECK(item_id(R"({"id": ")" + longest + R"("})", id) == longest);
  CHECK(item_id(R"({"id": ")" + too_long + R"("})", id) == sha256_hex(too_long));
}

TEST_CASE("item_id and resolve_array work together on a poll response", "[json_pointer]") {
  constexpr std::string_view response = R"({"data": {"children": [{"name": "t3_a"}, {"name": "t3_b"}, {"x": 1}]}})";
  auto items = resolve_array(pointer("/data/children"), response);
  REQUIRE(items);
  REQUIRE(items->size() == 3);
  const auto id = pointer("/name");
  CHECK(item_id((*items)[0], id) == "t3_a");
  CHECK(item_id((*items)[1], id) == "t3_b");
  CHECK(item_id((*items)[2], id) == sha256_hex(R"({"x":1})"));
}

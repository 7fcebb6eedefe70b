#include "core/json_pointer.hpp"

#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "core/crypto.hpp"

using namespace feedrouter;

namespace {

void check_rejected(const std::vector<std::string_view>& pointers) {
  for (auto text : pointers) {
    INFO("pointer: \"" << text << '"');
    auto parsed = parse_json_pointer(text, "idPointer");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().field == "idPointer");
    CHECK_FALSE(parsed.error().message.empty());
  }
}

} // namespace

TEST_CASE("a pointer not starting with a slash names its field", "[json_pointer]") {
  check_rejected({"a", "a/b", "foo/0", " /a", "#/a", "#", "~0", "0"});
}

TEST_CASE("a tilde not followed by 0 or 1 names its field", "[json_pointer]") {
  check_rejected({"/~", "/a~", "/~2", "/m~n", "/a/~/b", "/~~0", "/~a"});
}

TEST_CASE("the error names whichever field the caller gave", "[json_pointer]") {
  auto parsed = parse_json_pointer("items", "itemsPointer");
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().field == "itemsPointer");
}

TEST_CASE("resolve returns nullopt for a document that is not valid JSON", "[json_pointer]") {
  const auto whole = parse_json_pointer("", "p");
  const auto member = parse_json_pointer("/a", "p");
  REQUIRE(whole);
  REQUIRE(member);
  for (std::string_view doc : {"", "{", "{\"a\": }", "[1, 2", "nope", "{\"a\": 1} trailing"}) {
    INFO("document: " << doc);
    CHECK_FALSE(resolve(*whole, doc));
    CHECK_FALSE(resolve(*member, doc));
    CHECK_FALSE(resolve_array(*whole, doc));
  }
}

TEST_CASE("item_id hashes an item that is not valid JSON as given", "[json_pointer]") {
  const auto id = parse_json_pointer("/id", "idPointer");
  REQUIRE(id);
  CHECK(item_id("{not json", *id) == sha256_hex("{not json"));
  CHECK(item_id("", std::nullopt) == sha256_hex(""));
}

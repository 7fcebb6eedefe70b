#include "core/trigger_ref.hpp"

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

using namespace feedrouter;

namespace {

trigger_ref parsed(std::string_view text) {
  auto ref = parse_trigger_name(text);
  INFO(text << ": " << (ref ? std::string{} : ref.error().message));
  REQUIRE(ref);
  return *ref;
}

} // namespace

// -- parse_trigger_name ---------------------------------------------------------------

TEST_CASE("a fully qualified trigger name splits into namespace and name", "[trigger_ref]") {
  auto ref = parsed("/guest/my-trigger");
  CHECK(ref.ns == "guest");
  CHECK(ref.name == "my-trigger");
  CHECK(ref.key() == "guest/my-trigger");
  CHECK(ref.qualified() == "/guest/my-trigger");
}

TEST_CASE("a trigger name without the leading slash is accepted", "[trigger_ref]") {
  CHECK(parsed("guest/t") == parsed("/guest/t"));
}

TEST_CASE("the default namespace _ is kept as is", "[trigger_ref]") {
  auto ref = parsed("/_/t");
  CHECK(ref.ns == "_");
  CHECK(ref.name == "t");
}

TEST_CASE("trigger names may use every character OpenWhisk allows", "[trigger_ref]") {
  auto ref = parsed("/user@example.com_dev/my trigger.v2-_x");
  CHECK(ref.ns == "user@example.com_dev");
  CHECK(ref.name == "my trigger.v2-_x");
}

TEST_CASE("malformed trigger names are rejected naming triggerName", "[trigger_ref]") {
  for (auto text : {"", "/", "//", "t", "/t", "/ns", "/ns/", "//t", "ns//t", "/ns/pkg/t", "/ns/t/", "/-ns/t",
                    "/ns/-t", "/ns/.t", "/ns/t ", "/ns/ t", "/ns/t!", "/ns/t#x", "/n s /t", "/ns/caf\xc3\xa9",
                    "ns/t/"}) {
    INFO("'" << text << "'");
    auto ref = parse_trigger_name(text);
    REQUIRE_FALSE(ref);
    CHECK(ref.error().field == "triggerName");
    CHECK_FALSE(ref.error().message.empty());
  }
}

// -- is_valid_entity_name ------------------------------------------------------------

TEST_CASE("entity names of 1 to 256 characters are valid", "[trigger_ref]") {
  CHECK(is_valid_entity_name("a"));
  CHECK(is_valid_entity_name("_"));
  CHECK(is_valid_entity_name("0"));
  CHECK(is_valid_entity_name(std::string(256, 'a')));
  CHECK(is_valid_entity_name("a" + std::string(255, '-')));
  CHECK_FALSE(is_valid_entity_name(""));
  CHECK_FALSE(is_valid_entity_name(std::string(257, 'a')));
}

TEST_CASE("entity names start with a letter, digit or underscore", "[trigger_ref]") {
  for (auto name : {"abc", "Abc", "9abc", "_abc"})
    CHECK(is_valid_entity_name(name));
  for (auto name : {"-abc", ".abc", "@abc", " abc"})
    CHECK_FALSE(is_valid_entity_name(name));
}

TEST_CASE("entity names allow inner spaces but no trailing space", "[trigger_ref]") {
  CHECK(is_valid_entity_name("my trigger"));
  CHECK(is_valid_entity_name("a  b"));
  CHECK_FALSE(is_valid_entity_name("trigger "));
}

TEST_CASE("entity names reject characters outside the allowed set", "[trigger_ref]") {
  for (auto name : {"a/b", "a:b", "a!b", "a#b", "a%20b", "a\tb", "a\nb", "a+b", "a*b", "caf\xc3\xa9"}) {
    INFO("'" << name << "'");
    CHECK_FALSE(is_valid_entity_name(name));
  }
  CHECK_FALSE(is_valid_entity_name(std::string_view{"a\0b", 3}));
}

// -- make_trigger_ref -------------------------------------------------------------------

TEST_CASE("make_trigger_ref builds a reference from route segments", "[trigger_ref]") {
  auto ref = make_trigger_ref("guest", "t");
  REQUIRE(ref);
  CHECK(*ref == trigger_ref{"guest", "t"});
}

TEST_CASE("make_trigger_ref names namespace or trigger", "[trigger_ref]") {
  struct bad_ref {
    std::string_view ns;
    std::string_view name;
    std::string_view field;
  };
  for (auto c : {bad_ref{"", "t", "namespace"}, bad_ref{"a/b", "t", "namespace"}, bad_ref{"-ns", "t", "namespace"},
                 bad_ref{"ns", "", "trigger"}, bad_ref{"ns", "t/x", "trigger"}, bad_ref{"ns", "t ", "trigger"},
                 bad_ref{"", "", "namespace"}}) {
    INFO("'" << c.ns << "' / '" << c.name << "'");
    auto ref = make_trigger_ref(c.ns, c.name);
    REQUIRE_FALSE(ref);
    CHECK(ref.error().field == c.field);
  }
}

TEST_CASE("trigger references compare by namespace and name", "[trigger_ref]") {
  CHECK(trigger_ref{"a", "b"} == trigger_ref{"a", "b"});
  CHECK_FALSE(trigger_ref{"a", "b"} == trigger_ref{"a", "c"});
  CHECK_FALSE(trigger_ref{"a", "b"} == trigger_ref{"x", "b"});
}

#include "core/auth_key.hpp"

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "core/crypto.hpp"

using namespace feedrouter;

namespace {

/// An authKey of the shape OpenWhisk issues: a UUID, a colon, a 64-character key.
constexpr std::string_view guest_key =
  "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";

} // namespace

// -- authKeys and Basic authorization ---------------------------------------------------

TEST_CASE("is_valid_auth_key accepts uuid:key of printable ASCII", "[auth_key]") {
  CHECK(is_valid_auth_key(guest_key));
  CHECK(is_valid_auth_key("a:b"));
  CHECK(is_valid_auth_key("a:b:c"));
  CHECK(is_valid_auth_key("!~:~!"));
}

TEST_CASE("is_valid_auth_key rejects keys without both parts or with other characters", "[auth_key]") {
  for (auto key : {"", ":", "a:", ":b", "ab", "a b:c", "a:b c", "a:b\n", "a:b\t", "\ta:b", "a:b\x7f",
                   "a:caf\xc3\xa9"}) {
    INFO("'" << key << "'");
    CHECK_FALSE(is_valid_auth_key(key));
  }
  CHECK_FALSE(is_valid_auth_key(std::string_view{"a:b\0", 4}));
}

TEST_CASE("basic_authorization and parse_basic_authorization round trip", "[auth_key]") {
  auto header = basic_authorization(guest_key);
  CHECK(header == "Basic " + base64_encode(guest_key));
  CHECK(parse_basic_authorization(header) == std::string{guest_key});
  CHECK(basic_authorization("a:b") == "Basic YTpi");
  CHECK(parse_basic_authorization("Basic YTpi") == std::string{"a:b"});
}

TEST_CASE("parse_basic_authorization reads the scheme case-insensitively", "[auth_key]") {
  for (auto scheme : {"Basic ", "basic ", "BASIC ", "bAsIc "}) {
    INFO(scheme);
    CHECK(parse_basic_authorization(scheme + base64_encode(guest_key)) == std::string{guest_key});
  }
}

TEST_CASE("parse_basic_authorization accepts several spaces or a tab between scheme and credentials", "[auth_key]") {
  for (auto separator : {"  ", "   ", "\t", " \t ", "\t\t"}) {
    INFO("'" << separator << "'");
    CHECK(parse_basic_authorization("Basic" + std::string{separator} + base64_encode(guest_key))
          == std::string{guest_key});
  }
  CHECK(parse_basic_authorization("Basic YTpi  ") == std::string{"a:b"});
}

TEST_CASE("parse_basic_authorization rejects other schemes and malformed credentials", "[auth_key]") {
  for (const std::string& header : {
         std::string{},
         std::string{"Basic"},
         std::string{"Basic "},
         std::string{"Basic \t "},
         "Basic " + base64_encode(guest_key) + " x",
         std::string{"Basic YT pi"},
         "Basic\n" + base64_encode(guest_key),
         "Bearer " + base64_encode(guest_key),
         "Basi " + base64_encode(guest_key),
         "Basicx" + base64_encode(guest_key),
         "Basic" + base64_encode(guest_key),
         std::string{"Basic !!!!"},
         std::string{"Basic YTpi="},
         "Basic " + base64_encode("nocolon"),
         "Basic " + base64_encode(":key"),
         "Basic " + base64_encode("uuid:"),
         "Basic " + base64_encode("uu id:key"),
         "Basic " + base64_encode("uuid:key\n"),
         std::string{guest_key},
       }) {
    INFO("'" << header << "'");
    CHECK_FALSE(parse_basic_authorization(header));
  }
}

#include "core/crypto.hpp"

#include <set>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

using namespace feedrouter;

namespace {

/// An authKey of the shape OpenWhisk issues: a UUID, a colon, a 64-character key.
constexpr std::string_view guest_key =
  "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";

bool is_lower_hex(std::string_view text) {
  return text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

} // namespace

// -- sha256 -------------------------------------------------------------------------

TEST_CASE("sha256_hex matches the published test vectors", "[crypto]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("sha256_hex hashes embedded NUL bytes", "[crypto]") {
  auto with_nul = sha256_hex(std::string_view{"a\0b", 3});
  CHECK(with_nul.size() == 64);
  CHECK(is_lower_hex(with_nul));
  CHECK(with_nul != sha256_hex("a"));
  CHECK(with_nul != sha256_hex("ab"));
}

// -- constant_time_equal ---------------------------------------------------------------

TEST_CASE("constant_time_equal compares contents and lengths", "[crypto]") {
  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("abc", "abc"));
  CHECK(constant_time_equal(sha256_hex("x"), sha256_hex("x")));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "Abc"));
  CHECK_FALSE(constant_time_equal("abc", "ab"));
  CHECK_FALSE(constant_time_equal("ab", "abc"));
  CHECK_FALSE(constant_time_equal("", "a"));
  CHECK_FALSE(constant_time_equal(std::string_view{"a\0b", 3}, std::string_view{"a\0c", 3}));
}

// -- base64 ------------------------------------------------------------------------------

TEST_CASE("base64 encodes the RFC 4648 test vectors", "[crypto]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
}

TEST_CASE("base64 decodes the RFC 4648 test vectors", "[crypto]") {
  CHECK(base64_decode("") == std::string{});
  CHECK(base64_decode("Zg==") == std::string{"f"});
  CHECK(base64_decode("Zm8=") == std::string{"fo"});
  CHECK(base64_decode("Zm9v") == std::string{"foo"});
  CHECK(base64_decode("Zm9vYg==") == std::string{"foob"});
  CHECK(base64_decode("Zm9vYmE=") == std::string{"fooba"});
  CHECK(base64_decode("Zm9vYmFy") == std::string{"foobar"});
}

TEST_CASE("base64 round trips every byte value and every length", "[crypto]") {
  std::string bytes;
  for (int i = 0; i < 256; ++i)
    bytes += static_cast<char>(i);
  CHECK(base64_decode(base64_encode(bytes)) == bytes);
  for (std::size_t n = 0; n <= 9; ++n) {
    auto prefix = bytes.substr(250 - n, n);
    INFO("length " << n);
    auto encoded = base64_encode(prefix);
    CHECK(encoded.size() == 4 * ((n + 2) / 3));
    CHECK(base64_decode(encoded) == prefix);
  }
  CHECK(base64_decode(base64_encode(guest_key)) == std::string{guest_key});
}

TEST_CASE("malformed base64 decodes to nullopt", "[crypto]") {
  for (auto text : {"Z", "Zg", "Zg=", "Zm9vY", "Zm9v!A==", "Zm9$", "Zm9-", "Zm9_", "Z===", "====", "Zm 9v  A",
                    "Zm9v\n"}) {
    INFO("'" << text << "'");
    CHECK_FALSE(base64_decode(text));
  }
}

TEST_CASE("base64 with padding anywhere but at the end is malformed", "[crypto]") {
  // EVP_DecodeBlock reads an inner '=' as zero bits: "Zg==Zg==" decodes to "f\0\0f", "Zm=v" to "\x66\x60\x2f".
  for (auto text : {"Zg==Zg==", "Zm=v", "=Zm9"}) {
    INFO("'" << text << "'");
    CHECK_FALSE(base64_decode(text));
  }
}

TEST_CASE("base64 with surrounding whitespace is malformed", "[crypto]") {
  // EVP_DecodeBlock trims leading and trailing whitespace; then "Zg==    " decodes to "f\0\0" since its padding is
  // not counted.
  for (auto text : {"Zm9v    ", "    Zm9v", "Zg==    "}) {
    INFO("'" << text << "'");
    CHECK_FALSE(base64_decode(text));
  }
}

// -- random_hex ----------------------------------------------------------------------------

TEST_CASE("random_hex returns two lower-case hex digits per byte", "[crypto]") {
  CHECK(random_hex(0).empty());
  for (std::size_t bytes : {1u, 16u, 32u, 33u}) {
    auto text = random_hex(bytes);
    CHECK(text.size() == 2 * bytes);
    CHECK(is_lower_hex(text));
  }
}

TEST_CASE("random_hex does not repeat itself", "[crypto]") {
  constexpr int draws = 200;
  std::set<std::string> seen;
  for (int i = 0; i < draws; ++i)
    seen.insert(random_hex(16));
  CHECK(seen.size() == draws);
}

// -- hmac_sha256_hex -------------------------------------------------------------------------

TEST_CASE("hmac_sha256_hex matches the RFC 4231 test vectors", "[crypto]") {
  // Test case 2: a key shorter than the block.
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?")
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block is hashed first.
  CHECK(hmac_sha256_hex(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")
        == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("hmac_sha256_hex takes an empty key", "[crypto]") {
  CHECK(hmac_sha256_hex("", "") == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

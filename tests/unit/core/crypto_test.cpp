#include "core/crypto.hpp"

#include <set>
#include <stdexcept>
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

/// Returns the bytes of lower-case hex digits (test vectors are written in hex).
std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string{hex.substr(i, 2)}, nullptr, 16));
  return out;
}

/// Test case 16 of the GCM specification (McGrew and Viega): AES-256, a 96-bit IV, additional data, 60 bytes.
const std::string gcm_key = from_hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
const std::string gcm_nonce = from_hex("cafebabefacedbaddecaf888");
const std::string gcm_aad = from_hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
const std::string gcm_plaintext = from_hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                                           "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
const std::string gcm_sealed = from_hex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                                        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
                                        "76fc6ece0f4e1768cddf8853bb2d551b");

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

TEST_CASE("hmac_sha256 returns the 32 bytes whose hex hmac_sha256_hex returns", "[crypto]") {
  auto raw = hmac_sha256("Jefe", "what do ya want for nothing?");
  CHECK(raw.size() == 32);
  CHECK(raw == from_hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
}

// -- random_bytes ------------------------------------------------------------------------------

TEST_CASE("random_bytes returns as many bytes as asked, different each time", "[crypto]") {
  CHECK(random_bytes(0).empty());
  CHECK(random_bytes(12).size() == 12);
  constexpr int draws = 200;
  std::set<std::string> seen;
  for (int i = 0; i < draws; ++i)
    seen.insert(random_bytes(12));
  CHECK(seen.size() == draws);
}

// -- AES-256-GCM -------------------------------------------------------------------------------

TEST_CASE("aes256_gcm_seal matches the GCM specification's AES-256 test vector", "[crypto]") {
  CHECK(aes256_gcm_seal(gcm_key, gcm_nonce, gcm_aad, gcm_plaintext) == gcm_sealed);
  // Test case 13: an all-zero key and nonce, nothing to encrypt; the result is the tag alone.
  CHECK(aes256_gcm_seal(std::string(32, '\0'), std::string(12, '\0'), "", "")
        == from_hex("530f8afbc74536b9a963b4f1c4cb738b"));
}

TEST_CASE("aes256_gcm_open returns the plaintext of the test vector", "[crypto]") {
  CHECK(aes256_gcm_open(gcm_key, gcm_nonce, gcm_aad, gcm_sealed) == gcm_plaintext);
  CHECK(aes256_gcm_open(std::string(32, '\0'), std::string(12, '\0'), "", from_hex("530f8afbc74536b9a963b4f1c4cb738b"))
        == std::string{});
}

TEST_CASE("aes256_gcm_open refuses any altered input", "[crypto]") {
  SECTION("a flipped bit anywhere in the ciphertext or the tag") {
    for (std::size_t i = 0; i < gcm_sealed.size(); ++i) {
      auto altered = gcm_sealed;
      altered[i] = static_cast<char>(altered[i] ^ 0x01);
      INFO("byte " << i);
      CHECK_FALSE(aes256_gcm_open(gcm_key, gcm_nonce, gcm_aad, altered));
    }
  }
  SECTION("other additional data") {
    CHECK_FALSE(aes256_gcm_open(gcm_key, gcm_nonce, gcm_aad + "x", gcm_sealed));
    CHECK_FALSE(aes256_gcm_open(gcm_key, gcm_nonce, "", gcm_sealed));
  }
  SECTION("another key or nonce") {
    auto key = gcm_key;
    key[0] = static_cast<char>(key[0] ^ 0x80);
    CHECK_FALSE(aes256_gcm_open(key, gcm_nonce, gcm_aad, gcm_sealed));
    auto nonce = gcm_nonce;
    nonce[11] = static_cast<char>(nonce[11] ^ 0x01);
    CHECK_FALSE(aes256_gcm_open(gcm_key, nonce, gcm_aad, gcm_sealed));
  }
  SECTION("a truncated or extended text") {
    CHECK_FALSE(aes256_gcm_open(gcm_key, gcm_nonce, gcm_aad, gcm_sealed.substr(0, gcm_sealed.size() - 1)));
    CHECK_FALSE(aes256_gcm_open(gcm_key, gcm_nonce, gcm_aad, gcm_sealed + '\0'));
    CHECK_FALSE(aes256_gcm_open(gcm_key, gcm_nonce, gcm_aad, gcm_sealed.substr(0, 15)));
    CHECK_FALSE(aes256_gcm_open(gcm_key, gcm_nonce, gcm_aad, ""));
  }
}

TEST_CASE("AES-256-GCM refuses keys and nonces of the wrong size", "[crypto]") {
  CHECK_THROWS_AS(aes256_gcm_seal(std::string(16, 'k'), gcm_nonce, "", "x"), std::invalid_argument);
  CHECK_THROWS_AS(aes256_gcm_seal(gcm_key, std::string(16, 'n'), "", "x"), std::invalid_argument);
  CHECK_THROWS_AS(aes256_gcm_open(std::string(31, 'k'), gcm_nonce, "", gcm_sealed), std::invalid_argument);
  CHECK_THROWS_AS(aes256_gcm_open(gcm_key, std::string(8, 'n'), "", gcm_sealed), std::invalid_argument);
}

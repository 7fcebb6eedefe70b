#include "core/secrets_key.hpp"

#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

#include "core/crypto.hpp"

using namespace feedrouter;
using Catch::Matchers::StartsWith;

namespace {

const trigger_ref alice_tick{"alice", "tick"};
const trigger_ref bob_tick{"bob", "tick"};

/// A fixed key, so that failures are reproducible.
secrets_key fixed_key() {
  return secrets_key{std::string(secrets_key::material_size, '\x2a')};
}

constexpr std::string_view webhook_params = R"({"secret":"whsec-0123456789abcdef","signature":"hmac-sha256"})";

} // namespace

// -- sealing ------------------------------------------------------------------------------------

TEST_CASE("a sealed value opens to its plaintext with the same key, row and column", "[secrets_key]") {
  auto key = secrets_key::generate();
  for (std::string plaintext : {std::string{webhook_params}, std::string{}, std::string(100'000, 'x'),
                                std::string{"uuid:key\0with nul", 17}, std::string{"grüße"}}) {
    auto sealed = key.seal(plaintext, alice_tick, secret_column::params_json);
    CHECK(key.open(sealed, alice_tick, secret_column::params_json) == plaintext);
  }
}

TEST_CASE("a sealed value is text naming the format and the key, and shows nothing of the plaintext",
          "[secrets_key]") {
  auto key = fixed_key();
  auto sealed = key.seal(webhook_params, alice_tick, secret_column::params_json);
  CHECK_THAT(sealed, StartsWith("fr1." + key.id() + "."));
  CHECK(sealed.find("whsec") == std::string::npos);
  CHECK(sealed.find("secret") == std::string::npos);
  // Base64 of nonce, ciphertext and tag: as long as the plaintext plus 28 bytes, in base64.
  CHECK(sealed.size() == key.id().size() + 5 + base64_encode(std::string(webhook_params.size() + 28, ' ')).size());
}

TEST_CASE("sealing the same value twice gives two different texts (a fresh nonce each time)", "[secrets_key]") {
  auto key = fixed_key();
  constexpr int seals = 1000;
  std::set<std::string> texts;
  std::set<std::string> nonces;
  for (int i = 0; i < seals; ++i) {
    auto sealed = key.seal("same", alice_tick, secret_column::auth_key);
    texts.insert(sealed);
    auto bytes = base64_decode(sealed.substr(sealed.rfind('.') + 1));
    REQUIRE(bytes);
    nonces.insert(bytes->substr(0, gcm_nonce_size));
  }
  CHECK(texts.size() == seals);
  CHECK(nonces.size() == seals);
}

TEST_CASE("a sealed value does not open with another key", "[secrets_key]") {
  auto key = secrets_key::generate();
  auto other = secrets_key::generate();
  auto sealed = key.seal(webhook_params, alice_tick, secret_column::params_json);
  CHECK_FALSE(other.open(sealed, alice_tick, secret_column::params_json));
  SECTION("not even when the other key's id is written in its place") {
    auto relabelled = "fr1." + other.id() + sealed.substr(sealed.find('.', 4));
    CHECK_FALSE(other.open(relabelled, alice_tick, secret_column::params_json));
    CHECK_FALSE(key.open(relabelled, alice_tick, secret_column::params_json));
  }
}

TEST_CASE("a sealed value does not open in another row or column", "[secrets_key]") {
  auto key = secrets_key::generate();
  auto sealed = key.seal("uuid:key", alice_tick, secret_column::auth_key);
  CHECK_FALSE(key.open(sealed, bob_tick, secret_column::auth_key));
  CHECK_FALSE(key.open(sealed, {"alice", "tock"}, secret_column::auth_key));
  CHECK_FALSE(key.open(sealed, alice_tick, secret_column::params_json));
  // Namespace and name are bound with the namespace's length: moving the boundary changes the row.
  auto split = key.seal("x", {"ab", "c"}, secret_column::auth_key);
  CHECK_FALSE(key.open(split, {"a", "bc"}, secret_column::auth_key));
  CHECK_FALSE(key.open(split, {"a", "b/c"}, secret_column::auth_key));
}

TEST_CASE("a tampered sealed value does not open", "[secrets_key]") {
  auto key = fixed_key();
  auto sealed = key.seal(webhook_params, alice_tick, secret_column::params_json);
  SECTION("any byte of nonce, ciphertext or tag changed") {
    auto prefix = sealed.substr(0, sealed.rfind('.') + 1);
    auto bytes = *base64_decode(sealed.substr(prefix.size()));
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      auto altered = bytes;
      altered[i] = static_cast<char>(altered[i] ^ 0x04);
      INFO("byte " << i);
      CHECK_FALSE(key.open(prefix + base64_encode(altered), alice_tick, secret_column::params_json));
    }
  }
  SECTION("cut short, extended, or not base64") {
    CHECK_FALSE(key.open(sealed.substr(0, sealed.size() - 4), alice_tick, secret_column::params_json));
    CHECK_FALSE(key.open(sealed + "AAAA", alice_tick, secret_column::params_json));
    CHECK_FALSE(key.open(sealed.substr(0, 30), alice_tick, secret_column::params_json));
    CHECK_FALSE(key.open(sealed + "!", alice_tick, secret_column::params_json));
  }
  SECTION("another format version") {
    CHECK_FALSE(key.open("fr2" + sealed.substr(3), alice_tick, secret_column::params_json));
  }
  SECTION("plaintext as an older store kept it") {
    CHECK_FALSE(key.open(webhook_params, alice_tick, secret_column::params_json));
    CHECK_FALSE(key.open("", alice_tick, secret_column::params_json));
  }
}

// -- the lookup hash -------------------------------------------------------------------------

TEST_CASE("the authKey lookup hash is keyed: hex HMAC-SHA256, not the bare SHA-256", "[secrets_key]") {
  auto key = fixed_key();
  auto other = secrets_key::generate();
  auto hash = key.hash_auth_key("uuid:key");
  CHECK(hash.size() == 64);
  CHECK(hash == key.hash_auth_key("uuid:key"));
  CHECK(hash != key.hash_auth_key("uuid:key2"));
  CHECK(hash != other.hash_auth_key("uuid:key"));
  CHECK(hash != sha256_hex("uuid:key"));
  CHECK(hash != hmac_sha256_hex(std::string(secrets_key::material_size, '\x2a'), "uuid:key"));
}

// -- identity and key files --------------------------------------------------------------------

TEST_CASE("a key's id and check value depend on the key only and give nothing of it away", "[secrets_key]") {
  auto key = fixed_key();
  CHECK(key.id().size() == 8);
  CHECK(key.check_value().size() == 64);
  CHECK_THAT(key.check_value(), StartsWith(key.id()));
  CHECK(key.check_value() == fixed_key().check_value());
  CHECK(key.check_value() != secrets_key::generate().check_value());
  CHECK(key.check_value().find("2a2a2a2a") == std::string::npos);
}

TEST_CASE("a key's text parses back to the same key", "[secrets_key]") {
  auto key = secrets_key::generate();
  auto text = key.to_text();
  CHECK_THAT(text, StartsWith("feedrouter-secrets-v1:"));
  CHECK(text.back() == '\n');
  auto parsed = secrets_key::parse(text);
  REQUIRE(parsed);
  CHECK(parsed->check_value() == key.check_value());
  auto sealed = key.seal("uuid:key", alice_tick, secret_column::auth_key);
  CHECK(parsed->open(sealed, alice_tick, secret_column::auth_key) == "uuid:key");
  // Without the line end, or with a CRLF one, as editors may leave it.
  auto bare = text.substr(0, text.size() - 1);
  CHECK(secrets_key::parse(bare));
  CHECK(secrets_key::parse(bare + "\r\n"));
}

TEST_CASE("key text in any other form is refused", "[secrets_key]") {
  auto material = std::string(secrets_key::material_size, '\x07');
  auto good = "feedrouter-secrets-v1:" + base64_encode(material);
  REQUIRE(secrets_key::parse(good));
  for (std::string text :
       {std::string{}, base64_encode(material), "feedrouter-secrets-v2:" + base64_encode(material),
        "feedrouter-secrets-v1:" + base64_encode(material.substr(1)),
        "feedrouter-secrets-v1:" + base64_encode(material + "x"), good + "\n\n", " " + good, good + " ",
        "feedrouter-secrets-v1:" + std::string(44, '*'), good.substr(0, good.size() - 1)}) {
    INFO("text: '" << text << "'");
    CHECK_FALSE(secrets_key::parse(text));
  }
}

TEST_CASE("a key is made of exactly 32 bytes of material", "[secrets_key]") {
  CHECK_THROWS_AS(secrets_key{std::string(31, 'k')}, std::invalid_argument);
  CHECK_THROWS_AS(secrets_key{std::string(33, 'k')}, std::invalid_argument);
  CHECK_NOTHROW(secrets_key{std::string(32, 'k')});
}

// Fuzzes what a webhook sender controls: the signature or token header checked against the registration's secret,
// Standard Webhooks' webhook-id, webhook-timestamp and webhook-signature, and the body turned into the trigger
// payload.
//
// Input: the secret, the header, the webhook-id and the webhook-timestamp, each followed by a NUL byte, then the body;
// the header part is also the event header's value and the webhook-signature header, the secret also the raw key of a
// Standard Webhooks registration.
// Invariants: an HMAC header verifies exactly when it is "sha256=" (any case) and the digest of the body, spaces and
// tabs around it ignored; what sign_hmac_sha256 writes verifies, in any case and padded, and stops verifying when a
// digit changes; a token verifies exactly when it equals the secret; an empty secret verifies nothing; a
// webhook-signature verifies exactly when one of its space-separated entries is what sign_standard writes for that id,
// timestamp and body, which verifies among other entries and stops verifying when a character, the id or the
// timestamp changes; a webhook-timestamp parses exactly when it is 1 to 18 digits (spaces and tabs around them
// ignored), to their value, and is fresh exactly when it lies within the tolerance of the clock; a whsec_ secret
// gives back the key it was made of, of 24 to 64 bytes, and nothing else; the payload is always a JSON object,
// carrying the event when an event header is configured.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/crypto.hpp"
#include "core/json.hpp"
#include "core/text.hpp"
#include "core/webhook_signature.hpp"
#include "core/webhook_spec.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace feedrouter;
using fuzz::require;

constexpr std::string_view signature_prefix = "sha256=";

/// The provider's clock for the timestamp checks: 2026-01-01T00:00:00Z.
constexpr std::int64_t clock_seconds = 1'767'225'600;

std::string uppercase_hex(std::string_view digits) {
  std::string out{digits};
  for (auto& c : out)
    if (c >= 'a' && c <= 'f')
      c = static_cast<char>(c - 'a' + 'A');
  return out;
}

void check_verification(std::string_view secret, std::string_view header, std::string_view body) {
  const auto expected = sign_hmac_sha256(secret, body);
  const auto given = trim_ows(header);
  const bool matches = given.size() == expected.size() && ascii_lowercase(given) == expected;
  require(verify_hmac_sha256(secret, body, header) == (!secret.empty() && matches),
          "an HMAC header verifies exactly when it is the body's signature");
  require(verify_token(secret, header) == (!secret.empty() && given == secret),
          "a token verifies exactly when it is the secret");
  if (secret.empty())
    return;
  require(verify_hmac_sha256(secret, body, expected), "a signature made with the secret verifies");
  auto shouted = "SHA256=" + uppercase_hex(expected.substr(signature_prefix.size()));
  require(verify_hmac_sha256(secret, body, " \t" + shouted + "\t "), "case and padding do not matter");
  auto altered = expected;
  altered.back() = altered.back() == '0' ? '1' : '0';
  require(!verify_hmac_sha256(secret, body, altered), "a changed digit does not verify");
}

/// Returns whether one of the space-separated entries of `header` is `expected`: what verification must decide.
bool has_entry(std::string_view header, std::string_view expected) {
  while (!header.empty()) {
    auto end = header.find(' ');
    if (header.substr(0, end) == expected)
      return true;
    header.remove_prefix(end == std::string_view::npos ? header.size() : end + 1);
  }
  return false;
}

void check_standard_signature(std::string_view key, std::string_view header, std::string_view id,
                              std::string_view timestamp, std::string_view body) {
  const auto expected = sign_standard(key, id, timestamp, body);
  require(verify_standard_signature(key, id, timestamp, body, header) == (!key.empty() && has_entry(header, expected)),
          "a webhook-signature verifies exactly when one of its entries is the signature");
  if (key.empty())
    return;
  require(verify_standard_signature(key, id, timestamp, body, expected), "a signature made with the key verifies");
  require(verify_standard_signature(key, id, timestamp, body, "v1a,x " + expected + "  v2,y"),
          "a signature verifies among other entries");
  auto altered = expected;
  altered.back() = altered.back() == 'A' ? 'B' : 'A';
  require(!verify_standard_signature(key, id, timestamp, body, altered), "a changed character does not verify");
  require(!verify_standard_signature(key, std::string{id} + "x", timestamp, body, expected),
          "a signature is bound to its id");
  require(!verify_standard_signature(key, id, std::string{timestamp} + "0", body, expected),
          "a signature is bound to its timestamp");
}

void check_standard_timestamp(std::string_view timestamp) {
  const auto digits = trim_ows(timestamp);
  const bool well_formed = !digits.empty() && digits.size() <= 18
                           && digits.find_first_not_of("0123456789") == std::string_view::npos;
  auto seconds = parse_standard_timestamp(timestamp);
  require(seconds.has_value() == well_formed, "a webhook-timestamp parses exactly when it is 1 to 18 digits");
  if (!seconds)
    return;
  auto canonical = digits.substr(std::min(digits.find_first_not_of('0'), digits.size() - 1));
  require(std::to_string(*seconds) == canonical, "a webhook-timestamp parses to its value");
  const sys_ms now{std::chrono::seconds{clock_seconds}};
  const auto distance = static_cast<__int128>(*seconds) - clock_seconds;
  const auto tolerance = standard_timestamp_tolerance.count();
  require(standard_timestamp_fresh(*seconds, now) == (distance >= -tolerance && distance <= tolerance),
          "a webhook-timestamp is fresh exactly within the tolerance");
}

void check_standard_secret(std::string_view secret) {
  if (auto key = standard_secret_key(secret)) {
    require(key->size() >= standard_key_min_bytes && key->size() <= standard_key_max_bytes,
            "a whsec_ key has 24 to 64 bytes");
    require(standard_secret_key(std::string{standard_secret_prefix} + base64_encode(*key)) == key,
            "a whsec_ secret made of a key gives it back");
  }
  const bool fits = secret.size() >= standard_key_min_bytes && secret.size() <= standard_key_max_bytes;
  auto made = standard_secret_key(std::string{standard_secret_prefix} + base64_encode(secret));
  require(made.has_value() == fits && (!made || *made == secret), "a whsec_ secret holds exactly a key that fits");
}

void check_payload(std::string_view body, std::string_view event_value) {
  require(json_is_object(webhook_payload(body, event_value, false)), "a payload is a JSON object");
  auto with_event = webhook_payload(body, event_value, true);
  auto members = parse_json_object(with_event, "payload");
  require(!!members, "a payload with an event is a JSON object");
  const auto* event = find_member(*members, "event");
  require(event != nullptr, "a configured event header adds the event");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::fuzz_input in{data, size};
  const auto secret = in.part();
  const auto header = in.part();
  const auto id = in.part();
  const auto timestamp = in.part();
  const auto body = in.rest();
  check_verification(secret, header, body);
  check_standard_signature(secret, header, id, timestamp, body);
  check_standard_timestamp(timestamp);
  check_standard_secret(secret);
  check_payload(body, header);
  return 0;
}

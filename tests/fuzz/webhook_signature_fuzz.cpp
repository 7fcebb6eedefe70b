// Fuzzes what a webhook sender controls: the signature or token header checked against the registration's secret,
// and the body turned into the trigger payload.
//
// Input: the secret, a NUL byte, the header, a NUL byte, then the body; the event header's value is the header part.
// Invariants: an HMAC header verifies exactly when it is "sha256=" (any case) and the digest of the body, spaces and
// tabs around it ignored; what sign_hmac_sha256 writes verifies, in any case and padded, and stops verifying when a
// digit changes; a token verifies exactly when it equals the secret; an empty secret verifies nothing; the payload is
// always a JSON object, carrying the event when an event header is configured.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "core/text.hpp"
#include "core/webhook_signature.hpp"
#include "core/webhook_spec.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using namespace feedrouter;
using fuzz::require;

constexpr std::string_view signature_prefix = "sha256=";

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
  const auto body = in.rest();
  check_verification(secret, header, body);
  check_payload(body, header);
  return 0;
}

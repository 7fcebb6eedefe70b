#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/trigger_ref.hpp"
#include "net/http_message.hpp"
#include "tests/e2e/feedrouter_process.hpp"

namespace feedrouter::test {

/// What a webhook CREATE answered: where senders post and the secret they sign with.
struct webhook_registration {
  std::string hook_target; ///< the path of the hook URL, "/v1/hooks/{hookId}"; it survives a restart on another port
  std::string secret;      ///< shown once, in the CREATE answer
};

/// Creates a webhook registration for `trigger` as alice with `{"feed": "webhook", "signature": signature}` plus
/// `more_members` (raw JSON members without braces; may be empty); requires 201 with a hook URL on `fr` and a secret.
webhook_registration create_webhook(feedrouter_process& fr, const trigger_ref& trigger,
                                    std::string_view signature = "hmac-sha256", std::string_view more_members = {});

/// As create_webhook with the default signature, for a trigger that has a registration: requires 200 (replaced).
webhook_registration replace_webhook(feedrouter_process& fr, const trigger_ref& trigger);

/// Returns a hook POST of `body` with `X-Hub-Signature-256: sha256=HMAC(secret, body)`.
http_request signed_hook(const std::string& hook_target, std::string_view secret, std::string body,
                         std::string_view content_type = "application/json");

/// As create_webhook with the default signature, for a trigger that has a registration: requires 200 (replaced).
webhook_registration replace_webhook(feedrouter_process& fr, const trigger_ref& trigger);

/// Returns a hook POST of `body` without any signature header.
http_request unsigned_hook(const std::string& hook_target, std::string body);

/// Sends a signed hook POST of `body`; requires 202 {"accepted": true, "seq": N} and returns N.
std::int64_t post_event(feedrouter_process& fr, const webhook_registration& hook, std::string body);

/// Returns alice's READ of `trigger`; requires 200.
std::string read_registration(feedrouter_process& fr, const trigger_ref& trigger);

/// Returns alice's GET of the dead letters of `trigger`; requires 200.
std::string read_dead_letters(feedrouter_process& fr, const trigger_ref& trigger);

/// Asks `done` every few milliseconds until it returns true or `timeout` passed; returns its last answer. Only for
/// changes that no event announces to the test (the provider's own state behind its API); anything the fake
/// controller sees is awaited with its condition variable instead.
bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

} // namespace feedrouter::test

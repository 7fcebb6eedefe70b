#include <chrono>
#include <string>

#include <catch2/catch.hpp>

#include "core/auth_key.hpp"
#include "core/webhook_signature.hpp"
#include "tests/e2e/api_requests.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/e2e/json_probe.hpp"
#include "tests/e2e/webhook_client.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;

namespace {

/// How long a test waits for a fire that should come at once; reached only when something is broken.
constexpr auto fire_timeout = 5s;

/// Returns the fire body recorded by the fake controller as minified JSON, for comparing with an expected payload.
std::string minified(const std::string& json) {
  auto value = json_at(json, "");
  INFO("not JSON: " << json);
  REQUIRE(value);
  return *value;
}

} // namespace

TEST_CASE("a signed webhook POST fires once with its body as the payload and bad signatures fire nothing",
          "[e2e][delivery]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "github-push"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto hook = create_webhook(*fr, trigger);

  const std::string event = R"({"id":1,"ref":"refs/heads/main","commits":[{"id":"c0ffee"}]})";
  // Refused before anything is stored: no signature, another secret's signature, and a body changed after signing.
  auto unsigned_answer = fr->call(unsigned_hook(hook.hook_target, event));
  CHECK(unsigned_answer.status == 401);
  CHECK(json_string_at(unsigned_answer.body, "/field") == "X-Hub-Signature-256");
  CHECK(fr->call(signed_hook(hook.hook_target, "not-the-secret", event)).status == 401);
  auto tampered = signed_hook(hook.hook_target, hook.secret, event);
  tampered.body = R"({"id":666,"ref":"refs/heads/main","commits":[{"id":"c0ffee"}]})";
  CHECK(fr->call(std::move(tampered)).status == 401);
  auto malformed = signed_hook(hook.hook_target, hook.secret, event);
  malformed.fields.front().second = "sha256=zz";
  CHECK(fr->call(std::move(malformed)).status == 401);
  // An id no registration has is 404, signed or not.
  CHECK(fr->call(signed_hook("/v1/hooks/00000000000000000000000000000000", hook.secret, event)).status == 404);

  auto seq = post_event(*fr, hook, event);
  REQUIRE(fx.wait_for_fires_of(trigger, 1, fire_timeout));
  // Not JSON: fired as {"body": text}.
  const std::string text = "deploy finished, 3 warnings";
  auto text_answer = fr->call(signed_hook(hook.hook_target, hook.secret, text, "text/plain"));
  INFO("text POST: " << text_answer.body);
  REQUIRE(text_answer.status == 202);
  CHECK(json_int_at(text_answer.body, "/seq") > seq);
  REQUIRE(fx.wait_for_fires_of(trigger, 2, fire_timeout));

  // Fires keep the order of their events, so with the second event fired every earlier fire has arrived: the signed
  // event fired once, and none of the refused POSTs fired at all.
  auto fires = fx.fires_of(trigger);
  REQUIRE(fires.size() == 2);
  CHECK(minified(fires[0].body) == minified(event));
  CHECK(fires[0].authorization == basic_authorization(alice_key));
  CHECK(minified(fires[1].body) == minified(R"({"body":"deploy finished, 3 warnings"})"));
  fr->stop_cleanly();
}

TEST_CASE("a delivery id taken before a restart is taken once: the replay window is kept in the store",
          "[e2e][delivery][replay]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "deliveries"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto hook = create_webhook(*fr, trigger, "hmac-sha256", R"("deliveryHeader":"X-Delivery")");
  auto delivered = [&](const std::string& id, const std::string& body) {
    auto req = signed_hook(hook.hook_target, hook.secret, body);
    req.fields.emplace_back("X-Delivery", id);
    return fr->call(std::move(req));
  };
  REQUIRE(delivered("d-1", R"({"n":1})").status == 202);
  REQUIRE(fx.wait_for_fires_of(trigger, 1, fire_timeout));
  fr->stop_cleanly();
  fr = fx.start_feedrouter();
  // The same delivery again (a redelivery, or a captured request) after the restart: answered, not fired.
  auto again = delivered("d-1", R"({"n":1})");
  CHECK(again.status == 202);
  CHECK(json_string_at(again.body, "/reason") == "duplicate");
  auto second = delivered("d-2", R"({"n":2})");
  INFO(second.body);
  REQUIRE(second.status == 202);
  REQUIRE(fx.wait_for_fires_of(trigger, 2, fire_timeout));
  // Fires keep their events' order: with d-2 fired, a fire of the replayed d-1 would have come before it.
  auto fires = fx.fires_of(trigger);
  REQUIRE(fires.size() == 2);
  CHECK(json_int_at(fires[1].body, "/n") == 2);
  fr->stop_cleanly();
}

TEST_CASE("a Standard Webhooks registration takes a signed, fresh delivery once by its webhook-id, also after a "
          "restart, and refuses a stale or forged one naming the header", "[e2e][delivery][replay]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "standard"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto hook = create_webhook(*fr, trigger, "standard");
  REQUIRE(hook.secret.rfind("whsec_", 0) == 0);
  auto key = standard_secret_key(hook.secret);
  REQUIRE(key);
  auto deliver = [&](const std::string& id, const std::string& body, std::chrono::seconds sent_ago,
                     const std::string& signing_key) {
    auto sent = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                - sent_ago;
    auto timestamp = std::to_string(sent.count());
    http_request req;
    req.method = "POST";
    req.target = hook.hook_target;
    req.fields = {{"Content-Type", "application/json"},
                  {"webhook-id", id},
                  {"webhook-timestamp", timestamp},
                  {"webhook-signature", sign_standard(signing_key, id, timestamp, body)}};
    req.body = body;
    return fr->call(std::move(req));
  };
  auto forged = deliver("msg_1", R"({"n":1})", 0s, std::string(32, 'f'));
  CHECK(forged.status == 401);
  CHECK(json_string_at(forged.body, "/field") == "webhook-signature");
  // Well outside the five minutes either way: a captured delivery sent again later.
  auto stale = deliver("msg_1", R"({"n":1})", 3600s, *key);
  CHECK(stale.status == 400);
  CHECK(json_string_at(stale.body, "/field") == "webhook-timestamp");
  REQUIRE(deliver("msg_1", R"({"n":1})", 0s, *key).status == 202);
  // The sender retries with the same id, and a fresh timestamp and signature: taken once.
  auto retried = deliver("msg_1", R"({"n":1})", 0s, *key);
  CHECK(json_string_at(retried.body, "/reason") == "duplicate");
  REQUIRE(fx.wait_for_fires_of(trigger, 1, fire_timeout));
  fr->stop_cleanly();
  fr = fx.start_feedrouter();
  CHECK(json_string_at(deliver("msg_1", R"({"n":1})", 0s, *key).body, "/reason") == "duplicate");
  REQUIRE(deliver("msg_2", R"({"n":2})", 0s, *key).status == 202);
  REQUIRE(fx.wait_for_fires_of(trigger, 2, fire_timeout));
  auto fires = fx.fires_of(trigger);
  REQUIRE(fires.size() == 2);
  CHECK(json_int_at(fires[0].body, "/n") == 1);
  CHECK(json_int_at(fires[1].body, "/n") == 2);
  fr->stop_cleanly();
}

TEST_CASE("a token webhook accepts its secret in X-Feedrouter-Token and refuses any other", "[e2e][delivery]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "token-hook"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto hook = create_webhook(*fr, trigger, "token", R"("secret":"a-shared-token-of-some-length")");
  CHECK(hook.secret == "a-shared-token-of-some-length");

  auto with_token = [&](std::string token, std::string body) {
    auto req = unsigned_hook(hook.hook_target, std::move(body));
    req.fields.emplace_back("X-Feedrouter-Token", std::move(token));
    return fr->call(std::move(req));
  };
  CHECK(fr->call(unsigned_hook(hook.hook_target, R"({"n":0})")).status == 401);
  CHECK(with_token("a-shared-token-of-some-lengtH", R"({"n":0})").status == 401);
  // An HMAC signature does not stand in for the token.
  CHECK(fr->call(signed_hook(hook.hook_target, hook.secret, R"({"n":0})")).status == 401);
  auto accepted = with_token(hook.secret, R"({"n":1})");
  INFO(accepted.body);
  CHECK(accepted.status == 202);
  REQUIRE(fx.wait_for_fires_of(trigger, 1, fire_timeout));
  auto fires = fx.fires_of(trigger);
  REQUIRE(fires.size() == 1);
  CHECK(minified(fires[0].body) == R"({"n":1})");
  fr->stop_cleanly();
}

TEST_CASE("no READ of a webhook registration shows its secret", "[e2e][delivery]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "secret-keeper"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto hook = create_webhook(*fr, trigger);

  auto read = read_registration(*fr, trigger);
  INFO("READ: " << read);
  CHECK(read.find(hook.secret) == std::string::npos);
  CHECK_FALSE(json_at(read, "/config/secret"));
  CHECK_FALSE(json_at(read, "/secret"));
  CHECK(json_string_at(read, "/config/signature") == "hmac-sha256");
  CHECK(json_string_at(read, "/status/hookUrl") == fr->base_url() + hook.hook_target);

  auto listed = fr->call(api_request("GET", "/v1/triggers/alice", alice_key));
  INFO("list: " << listed.body);
  CHECK(listed.status == 200);
  CHECK(listed.body.find(hook.secret) == std::string::npos);

  auto lifecycle_read = fr->call(lifecycle_request("READ", trigger, alice_key));
  INFO("lifecycle READ: " << lifecycle_read.body);
  CHECK(lifecycle_read.status == 200);
  CHECK(lifecycle_read.body.find(hook.secret) == std::string::npos);

  // An UPDATE that changes something else answers the view too, and still without the secret.
  auto updated = fr->call(api_request("PATCH", trigger_path(trigger), alice_key, R"({"trigger_payload":{"x":1}})"));
  INFO("UPDATE: " << updated.body);
  CHECK(updated.status == 200);
  CHECK(updated.body.find(hook.secret) == std::string::npos);

  // Nor after a restart, where the secret comes back from the store.
  fr->stop_cleanly();
  fr = fx.start_feedrouter();
  auto reread = read_registration(*fr, trigger);
  INFO("READ after restart: " << reread);
  CHECK(reread.find(hook.secret) == std::string::npos);
  // The hook keeps its id and secret across the restart.
  CHECK(post_event(*fr, hook, R"({"after":"restart"})") >= 1);
  REQUIRE(fx.wait_for_fires_of(trigger, 1, fire_timeout));
  fr->stop_cleanly();
}

// docs/architecture.md section 4: `trigger_payload` is merged into every fire of every feed kind (the event's own
// members win).
TEST_CASE("a webhook fire carries the trigger_payload members the event does not have", "[e2e][delivery]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "hook-with-defaults"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  auto fr = fx.start_feedrouter();
  auto hook = create_webhook(*fr, trigger, "hmac-sha256", R"("trigger_payload":{"source":"ci","id":0})");
  post_event(*fr, hook, R"({"id":7})");
  REQUIRE(fx.wait_for_fires_of(trigger, 1, fire_timeout));
  auto fires = fx.fires_of(trigger);
  REQUIRE(fires.size() == 1);
  INFO("fire body: " << fires[0].body);
  CHECK(json_int_at(fires[0].body, "/id") == 7);
  CHECK(json_string_at(fires[0].body, "/source") == "ci");
  fr->stop_cleanly();
}

TEST_CASE("a webhook answers 429 while --max-buffered-events wait for the controller and 503 while paused",
          "[e2e][delivery]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "backed-up-hook"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  fx.controller().hold(trigger, 503);
  auto fr = fx.start_feedrouter({"--max-buffered-events", "2"});
  auto hook = create_webhook(*fr, trigger);

  post_event(*fr, hook, R"({"id":1})");
  post_event(*fr, hook, R"({"id":2})");
  auto full = fr->call(signed_hook(hook.hook_target, hook.secret, R"({"id":3})"));
  INFO("third POST: " << full.body);
  CHECK(full.status == 429);
  REQUIRE(fx.controller().wait_for_attempts(trigger, 1, fire_timeout));
  auto read = read_registration(*fr, trigger);
  INFO("READ: " << read);
  CHECK(json_int_at(read, "/status/pendingEvents") == 2);

  // The controller recovers: the next retry (at most a second away) drains the buffer and the hook takes events again.
  fx.controller().release(trigger);
  REQUIRE(fx.wait_for_fires_of(trigger, 2, fire_timeout));
  post_event(*fr, hook, R"({"id":4})");
  REQUIRE(fx.wait_for_fires_of(trigger, 3, fire_timeout));
  auto fires = fx.fires_of(trigger);
  REQUIRE(fires.size() == 3);
  CHECK(json_int_at(fires[0].body, "/id") == 1);
  CHECK(json_int_at(fires[1].body, "/id") == 2);
  CHECK(json_int_at(fires[2].body, "/id") == 4);

  // A pause takes a fire in flight back and sends it again after resume (at-least-once), so let the provider take
  // the last answer first. It does so right after the fake recorded the fire; no event tells the test, so poll.
  REQUIRE(poll_until(
    [&] { return json_int_at(read_registration(*fr, trigger), "/status/pendingEvents") == 0; }, fire_timeout));

  // Paused by its owner: the hook answers 503 and stores nothing; after resume it takes events again.
  REQUIRE(fr->call(api_request("POST", trigger_path(trigger) + "/pause", alice_key)).status == 200);
  auto paused = fr->call(signed_hook(hook.hook_target, hook.secret, R"({"id":5})"));
  INFO("POST while paused: " << paused.body);
  CHECK(paused.status == 503);
  REQUIRE(fr->call(api_request("POST", trigger_path(trigger) + "/resume", alice_key)).status == 200);
  post_event(*fr, hook, R"({"id":6})");
  REQUIRE(fx.wait_for_fires_of(trigger, 4, fire_timeout));
  fires = fx.fires_of(trigger);
  REQUIRE(fires.size() == 4);
  CHECK(json_int_at(fires[3].body, "/id") == 6);
  fr->stop_cleanly();
}

TEST_CASE("a CREATE replacing a registration leaves none of its pending events behind: the new one takes events and "
          "fires only its own, also after a restart",
          "[e2e][delivery]") {
  e2e_fixture fx;
  const trigger_ref trigger{"alice", "replaced-hook"};
  fx.controller().add_trigger(trigger, std::string{alice_key});
  fx.controller().hold(trigger, 503);
  auto first = fx.start_feedrouter();
  auto old_hook = create_webhook(*first, trigger);
  post_event(*first, old_hook, R"({"id":1})");
  REQUIRE(fx.controller().wait_for_attempts(trigger, 1, fire_timeout));

  // The CREATE again replaces the registration whole; the event waiting for the controller was the old one's.
  auto hook = replace_webhook(*first, trigger);
  auto read = read_registration(*first, trigger);
  INFO("READ after the replacing CREATE: " << read);
  CHECK(json_int_at(read, "/status/pendingEvents") == 0);
  fx.controller().release(trigger);
  // The new registration's events are numbered from the start again: stored beside the old ones, they collided.
  post_event(*first, hook, R"({"id":2})");
  REQUIRE(fx.wait_for_fires_of(trigger, 1, fire_timeout));
  first->stop_cleanly();
  first.reset();

  // Stored events are fired first after a start, in order: an event of the old registration would come before id 3.
  auto second = fx.start_feedrouter();
  post_event(*second, hook, R"({"id":3})");
  REQUIRE(fx.wait_for_fires_of(trigger, 2, fire_timeout));
  auto fires = fx.fires_of(trigger);
  REQUIRE(fires.size() == 2);
  CHECK(json_int_at(fires[0].body, "/id") == 2);
  CHECK(json_int_at(fires[1].body, "/id") == 3);
  second->stop_cleanly();
}

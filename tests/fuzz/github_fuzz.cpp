// Fuzzes the github feed from what tenants and GitHub's API endpoint control: the parameters of a CREATE (validation,
// normalization, the requests made of them), an answer of the API (a tenant names the endpoint, so it may be hostile),
// and a delivery to the hook URL (signature, ping, delivery id) with the replay window. A refusal names a field, a
// message shown to the tenant stays short, every request body is one JSON object, and a delivery id is taken once.
//
// Input: the parameters as a JSON object on the first line, an HTTP status (three digits) and the API's answer body
// on the second, then the delivery: its X-GitHub-Event, X-GitHub-Delivery and body, separated by NUL bytes.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/egress_policy.hpp"
#include "core/feed_config.hpp"
#include "core/github_api.hpp"
#include "core/json.hpp"
#include "core/replay_window.hpp"
#include "core/time_format.hpp"
#include "core/webhook_delivery.hpp"
#include "core/webhook_signature.hpp"

namespace {

using namespace feedrouter;

constexpr sys_ms now{std::chrono::milliseconds{1'768'471'200'000}}; // 2026-01-15T10:00:00Z
/// A message shown to a tenant: GitHub's own text cut at 200 characters, and the provider's words around it.
constexpr std::size_t max_shown_message = 400;

void check(bool condition) {
  if (!condition)
    __builtin_trap();
}

/// Returns the part of `rest` before `separator` and drops it from `rest`. Views keep pointing into the input, never
/// null, as the provider's own strings never are.
std::string_view next_part(std::string_view& rest, char separator) {
  auto end = std::min(rest.find(separator), rest.size());
  auto part = rest.substr(0, end);
  rest.remove_prefix(std::min(end + 1, rest.size()));
  return part;
}

void check_answer(std::string_view answer_line) {
  int status = 0;
  for (char c : answer_line.substr(0, 3))
    status = status * 10 + (c >= '0' && c <= '9' ? c - '0' : 0);
  auto body = answer_line.substr(std::min<std::size_t>(3, answer_line.size()));
  for (auto op : {github_operation::create, github_operation::list, github_operation::update,
                  github_operation::remove}) {
    auto answer = judge_github_answer(op, status, body, "no HTTP response");
    check(answer.message.size() <= max_shown_message);
    check((answer.what == github_answer::kind::refused) == !answer.field.empty());
  }
  (void) find_hook(body, "https://feeds.example.com/v1/hooks/abc");
  (void) hook_id_of(body);
  (void) is_full_page(body);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy: an empty input may come as a null pointer, which the parsers must never see.
  const std::string input{reinterpret_cast<const char*>(data), size};
  std::string_view rest{input};
  auto params_text = next_part(rest, '\n');
  check_answer(next_part(rest, '\n'));
  auto params = parse_json_object(params_text, "params");
  if (!params)
    return 0;
  auto with_hook = *params;
  with_hook.emplace_back("hookId", "\"0123456789abcdef0123456789abcdef\"");
  if (find_member(with_hook, "secret") == nullptr)
    with_hook.emplace_back("secret", "\"" + generate_secret() + "\"");
  auto config = make_feed_config("github", with_hook, now, validation_time::request, "guest/fuzzed", egress_policy{});
  if (!config) {
    check(!config.error().field.empty());
    return 0;
  }
  const auto& spec = *config->github;
  check(!spec.owner.empty() && !spec.repository.empty() && !spec.events.empty());
  // The stored parameters are read again at every start: they must give the same registration.
  auto again =
    make_feed_config("github", config->params, now, validation_time::restore, "guest/fuzzed", egress_policy{});
  check(again && again->github->full_name() == spec.full_name() && again->github->events == spec.events);
  github_hook_config hook{"https://feeds.example.com/v1/hooks/abc", config->webhook->secret, spec.events, true};
  for (const auto& call : {create_hook_call(spec, hook), update_hook_call(spec, 1, hook)})
    check(json_is_object(call.body) && call.target.rfind(spec.api.target + "/repos/", 0) == 0);
  auto event = next_part(rest, '\0');
  auto id = next_part(rest, '\0');
  webhook_delivery delivery{std::string{rest}, {{"X-GitHub-Event", std::string{event}},
                                                {"X-GitHub-Delivery", std::string{id}}}};
  delivery.headers.emplace_back("X-Hub-Signature-256", sign_hmac_sha256(config->webhook->secret, delivery.body));
  auto verdict = judge_webhook(*config->webhook, delivery, config->fire_body, now);
  check(verdict.what != webhook_verdict::kind::bad_signature);
  if (verdict.what == webhook_verdict::kind::accept) {
    check(json_is_object(verdict.payload));
    replay_window window{2};
    check(window.admit(verdict.delivery_id));
    check(!window.admit(verdict.delivery_id));
  }
  return 0;
}

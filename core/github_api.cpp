#include "core/github_api.hpp"

#include "core/json.hpp"
#include "core/json_pointer.hpp"
#include "core/url.hpp"

namespace feedrouter {

namespace {

/// GitHub's messages are short sentences; a longer text is cut, so a hostile API endpoint cannot fill a status.
constexpr std::size_t max_github_message = 200;

std::string hooks_path(const github_spec& spec) {
  return spec.api.target + "/repos/" + percent_encode(spec.owner) + "/" + percent_encode(spec.repository) + "/hooks";
}

void write_hook(json_writer& out, const github_hook_config& hook) {
  out.key("active").value(hook.active);
  out.key("events").begin_array();
  for (const auto& event : hook.events)
    out.value(event);
  out.end_array();
  out.key("config").begin_object();
  out.key("url").value(hook.hook_url);
  out.key("content_type").value("json");
  out.key("secret").value(hook.secret);
  out.key("insecure_ssl").value("0");
  out.end_object();
}

std::optional<std::int64_t> id_member(std::string_view object) {
  auto id = resolve(json_pointer{{"id"}}, object);
  return id ? json_as_int(*id) : std::nullopt;
}

/// Returns GitHub's own message in an error answer (its `message`, and the first error's), cut to a short text.
std::string github_message(std::string_view body) {
  std::string text;
  if (auto message = resolve(json_pointer{{"message"}}, body))
    if (auto value = json_as_string(*message))
      text = *value;
  if (auto detail = resolve(json_pointer{{"errors", "0", "message"}}, body))
    if (auto value = json_as_string(*detail))
      text += (text.empty() ? "" : ": ") + *value;
  if (text.size() > max_github_message)
    text = text.substr(0, max_github_message) + "...";
  return text;
}

std::string answered(int status, std::string_view body) {
  auto message = github_message(body);
  return "GitHub answered HTTP " + std::to_string(status) + (message.empty() ? "" : " (" + message + ")");
}

} // namespace

github_call create_hook_call(const github_spec& spec, const github_hook_config& hook) {
  json_writer out;
  out.begin_object().key("name").value("web");
  write_hook(out, hook);
  out.end_object();
  return {"POST", hooks_path(spec), out.take()};
}

github_call list_hooks_call(const github_spec& spec, std::size_t page) {
  return {"GET",
          hooks_path(spec) + "?per_page=" + std::to_string(github_hooks_per_page) + "&page=" + std::to_string(page),
          {}};
}

github_call update_hook_call(const github_spec& spec, std::int64_t hook_id, const github_hook_config& hook) {
  json_writer out;
  out.begin_object();
  write_hook(out, hook);
  out.end_object();
  return {"PATCH", hooks_path(spec) + "/" + std::to_string(hook_id), out.take()};
}

github_call delete_hook_call(const github_spec& spec, std::int64_t hook_id) {
  return {"DELETE", hooks_path(spec) + "/" + std::to_string(hook_id), {}};
}

std::optional<std::int64_t> hook_id_of(std::string_view answer) {
  return id_member(answer);
}

std::optional<std::int64_t> find_hook(std::string_view answer, std::string_view hook_url) {
  auto hooks = resolve_array(json_pointer{}, answer);
  if (!hooks)
    return std::nullopt;
  for (const auto& hook : *hooks) {
    auto url = resolve(json_pointer{{"config", "url"}}, hook);
    auto text = url ? json_as_string(*url) : std::nullopt;
    if (text && *text == hook_url)
      return id_member(hook);
  }
  return std::nullopt;
}

bool is_full_page(std::string_view answer) {
  auto hooks = resolve_array(json_pointer{}, answer);
  return hooks && hooks->size() >= github_hooks_per_page;
}

github_answer judge_github_answer(github_operation op, int status, std::string_view body, std::string_view transport) {
  using kind = github_answer::kind;
  if (status == 0)
    return {kind::unavailable, {}, "GitHub's API did not answer: " + std::string{transport}};
  if (status >= 200 && status < 300)
    return {kind::done, {}, {}};
  if (status == 404 && (op == github_operation::remove || op == github_operation::update))
    return {kind::gone, {}, {}};
  switch (status) {
    case 401:
      return {kind::refused, "accessToken", "GitHub refused the token (" + github_message(body) + ")"};
    case 404:
      return {kind::refused, "repository",
              "GitHub knows no such repository, or the token may not manage its hooks (" + github_message(body) + ")"};
    case 422:
      return {kind::refused, "events", "GitHub refused the hook: " + github_message(body)};
    default:
      break;
  }
  // 403: a token without the permission, but also GitHub's rate limit; both end, the first only with a new token.
  if (status == 403)
    return {kind::refused, "accessToken", "the token may not manage the repository's hooks (" + answered(status, body)
                                            + ")"};
  return {kind::unavailable, {}, answered(status, body)};
}

} // namespace feedrouter

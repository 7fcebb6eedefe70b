#include "core/github_spec.hpp"

#include <algorithm>
#include <cctype>

#include "core/param_reader.hpp"

namespace feedrouter {

namespace {

/// GitHub's own bounds: an owner (user or organisation) name has at most 39 characters, a repository name 100.
constexpr std::size_t max_owner_length = 39;
constexpr std::size_t max_repository_length = 100;
/// Tokens GitHub issues are 40 to 93 characters; a longer value is no token.
constexpr std::size_t max_token_length = 255;
/// GitHub knows about 80 event kinds; a hook lists each at most once.
constexpr std::size_t max_github_events = 100;
constexpr std::size_t max_event_length = 64;
/// The largest hook id accepted back from storage; GitHub's ids are positive 64-bit integers.
constexpr std::int64_t max_hook_id = INT64_MAX;
constexpr std::string_view default_event = "push";

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

bool is_name(std::string_view name, std::size_t max_length) {
  return !name.empty() && name.size() <= max_length && name != "." && name != ".."
         && std::all_of(name.begin(), name.end(), is_name_char);
}

/// A token travels in a header: printable ASCII without blanks, so that it cannot end the header or add another.
bool is_token(std::string_view token) {
  return !token.empty() && token.size() <= max_token_length
         && std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

bool is_event_name(std::string_view event) {
  return event == "*"
         || (!event.empty() && event.size() <= max_event_length && std::all_of(event.begin(), event.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
             }));
}

outcome<std::string> read_api_url(const json_members& params) {
  auto api = read_string_param(params, "apiUrl");
  if (!api)
    return api.error();
  auto base = read_string_param(params, "baseUrl");
  if (!base)
    return base.error();
  if (*api && *base && **api != **base)
    return field_error{"apiUrl", "and baseUrl name the same endpoint (baseUrl is OpenWhisk's name): give one"};
  if (*api)
    return **api;
  if (*base)
    return **base;
  return std::string{default_github_api_url};
}

outcome<std::vector<std::string>> read_events(const json_members& params) {
  auto events = read_string_list_param(params, "events");
  if (!events)
    return events.error();
  if (!*events)
    return std::vector<std::string>{std::string{default_event}};
  auto list = std::move(**events);
  if (list.empty())
    return field_error{"events", "must name at least one event, such as \"push\""};
  if (list.size() > max_github_events)
    return field_error{"events", "may list at most " + std::to_string(max_github_events) + " events"};
  for (const auto& event : list)
    if (!is_event_name(event))
      return field_error{"events", "\"" + event.substr(0, max_event_length)
                                     + "\" is not a GitHub event name (lower case letters and '_', or \"*\")"};
  std::sort(list.begin(), list.end());
  list.erase(std::unique(list.begin(), list.end()), list.end());
  return list;
}

} // namespace

outcome<github_spec> parse_github_spec(const json_members& params, const egress_policy& egress) {
  github_spec spec;
  auto repository = read_string_param(params, "repository");
  if (!repository)
    return repository.error();
  if (!*repository || (*repository)->empty())
    return field_error{"repository", "is missing: give \"repo\" (owned by username) or \"owner/repo\""};
  auto username = read_string_param(params, "username");
  if (!username)
    return username.error();
  std::string_view full = **repository;
  auto slash = full.find('/');
  if (slash == std::string_view::npos) {
    if (!*username || (*username)->empty())
      return field_error{"username", "is missing: give it, or the repository as \"owner/repo\""};
    spec.owner = **username;
    spec.repository = std::string{full};
  } else {
    spec.owner = std::string{full.substr(0, slash)};
    spec.repository = std::string{full.substr(slash + 1)};
  }
  if (!is_name(spec.owner, max_owner_length))
    return field_error{slash == std::string_view::npos ? "username" : "repository",
                       "the owner must be a GitHub user or organisation name (letters, digits, '-', '_', '.')"};
  if (!is_name(spec.repository, max_repository_length))
    return field_error{"repository", "must be \"repo\" or \"owner/repo\" with a GitHub repository name "
                                     "(letters, digits, '-', '_', '.')"};
  auto token = read_string_param(params, "accessToken");
  if (!token)
    return token.error();
  if (!*token || (*token)->empty())
    return field_error{"accessToken", "is missing: a GitHub token that may administer the repository's hooks"};
  if (!is_token(**token))
    return field_error{"accessToken", "must be a GitHub token (printable characters without blanks, at most "
                                        + std::to_string(max_token_length) + ")"};
  spec.access_token = **token;
  auto events = read_events(params);
  if (!events)
    return events.error();
  spec.events = std::move(*events);
  auto api_text = read_api_url(params);
  if (!api_text)
    return api_text.error();
  auto field = find_member(params, "apiUrl") == nullptr && find_member(params, "baseUrl") != nullptr ? "baseUrl"
                                                                                                      : "apiUrl";
  auto api = parse_url(*api_text, field);
  if (!api)
    return api.error();
  if (api->target.find('?') != std::string::npos)
    return field_error{field, "must be the API's base URL, without a query"};
  if (auto refused = check_url_egress(egress, *api, field))
    return *refused;
  // The API's paths are appended to the base's own ("/api/v3" of GitHub Enterprise).
  while (!api->target.empty() && api->target.back() == '/')
    api->target.pop_back();
  spec.api = std::move(*api);
  auto hook_id = read_int_param(params, {github_hook_id_param, 1, max_hook_id});
  if (!hook_id)
    return hook_id.error();
  if (*hook_id)
    spec.hook_id = **hook_id;
  return spec;
}

webhook_spec github_ingress(webhook_spec hook, const github_spec& github) {
  hook.signature = webhook_spec::signature_kind::hmac_sha256;
  hook.event_header = std::string{github_event_header};
  auto every = std::find(github.events.begin(), github.events.end(), "*") != github.events.end();
  hook.events = every ? std::vector<std::string>{} : github.events;
  hook.delivery_header = std::string{github_delivery_header};
  hook.answers_ping = true;
  return hook;
}

} // namespace feedrouter

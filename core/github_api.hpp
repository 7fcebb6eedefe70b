#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/github_spec.hpp"

namespace feedrouter {

// The requests of GitHub's REST API that keep a registration's repository hook, and what their answers mean
// (docs/github-feed.md). Pure: the HTTP exchange is the caller's.

/// Hooks one page of a hook list holds at most (GitHub's own maximum), and pages read when looking for a hook.
inline constexpr std::size_t github_hooks_per_page = 100;
inline constexpr std::size_t github_max_hook_pages = 10;

/// One request to GitHub's API: method, target (the API base's path included) and JSON body.
struct github_call {
  std::string method;
  std::string target;
  std::string body; ///< empty when the request has none
};

/// What a hook at GitHub is to be: where it delivers, with which secret, for which events, active or not.
struct github_hook_config {
  std::string hook_url;
  std::string secret;
  std::vector<std::string> events;
  bool active = true;
};

/// Returns `POST /repos/{owner}/{repo}/hooks` creating the hook `hook`, delivering JSON with TLS verified.
github_call create_hook_call(const github_spec& spec, const github_hook_config& hook);

/// Returns `GET /repos/{owner}/{repo}/hooks` for page `page` (from 1) of github_hooks_per_page hooks.
github_call list_hooks_call(const github_spec& spec, std::size_t page);

/// Returns `PATCH /repos/{owner}/{repo}/hooks/{id}` setting the whole of `hook` (config with the secret included:
/// GitHub drops a secret that a config change leaves out), for a hook adopted or changed.
github_call update_hook_call(const github_spec& spec, std::int64_t hook_id, const github_hook_config& hook);

/// Returns `DELETE /repos/{owner}/{repo}/hooks/{id}`.
github_call delete_hook_call(const github_spec& spec, std::int64_t hook_id);

/// Returns the `id` of the hook in a create or update answer, or nullopt when the answer holds none.
std::optional<std::int64_t> hook_id_of(std::string_view answer);

/// Returns the id of the hook in the hook list `answer` whose `config.url` is `hook_url`, or nullopt.
std::optional<std::int64_t> find_hook(std::string_view answer, std::string_view hook_url);

/// Returns whether the hook list `answer` is a full page, so that another may follow.
bool is_full_page(std::string_view answer);

/// What an answer of GitHub's means for the registration.
struct github_answer {
  enum class kind {
    done,        ///< 2xx: it is as asked
    gone,        ///< 404 of a hook that was there: deleted at GitHub already
    refused,     ///< the tenant's parameters cannot work: `field` and `message` say which and why
    unavailable, ///< GitHub did not take it now (5xx, rate limit, no answer): worth another try later
  };

  kind what = kind::done;
  std::string field;
  std::string message;
};

/// Which request an answer is to, for what its status means.
enum class github_operation { create, list, update, remove };

/// Returns what the answer `status` (0: none came, `transport` says why) with `body` to `op` means. A 401 names
/// `accessToken`; a 404 names `repository` (GitHub answers 404 also to a token that may not see or administer it);
/// a 422 names `events` with GitHub's message. Bodies are read for GitHub's own short message only, never echoed.
github_answer judge_github_answer(github_operation op, int status, std::string_view body, std::string_view transport);

} // namespace feedrouter

#pragma once

#include <chrono>
#include <cstdint>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "core/github_api.hpp"
#include "net/http_client.hpp"

namespace feedrouter {

/// One change to a registration's hook at GitHub.
struct github_hook_task {
  enum class kind {
    install, ///< create the hook (adopting one GitHub already has for the same URL)
    update,  ///< set its active flag, events and secret (installing it anew if it is gone)
    remove,  ///< delete it (done when it is gone already)
  };

  kind what = kind::install;
  github_spec spec;        ///< the repository, token and API; spec.hook_id 0 means "find it by its URL"
  github_hook_config hook; ///< what the hook is to be
};

/// How a task ended: GitHub's answer as the registration sees it, and the hook's id at GitHub (0 when removed).
struct github_hook_result {
  github_answer answer;
  std::int64_t hook_id = 0;
};

/// Keeps repository hooks at GitHub on the registry's behalf: each task is a short exchange with GitHub's API (at
/// most a few requests: create, or list and adopt, or update, or delete), tried once; retrying is the caller's
/// decision.
using github_hooks_actor =
  caf::typed_actor<caf::replies_to<github_atom, github_hook_task>::with<github_hook_result>>;

/// Spawns the hook keeper; its requests go through `client` as a tenant's (the egress policy judges every address
/// connected to), each within `timeout`.
github_hooks_actor spawn_github_hooks(caf::actor_system& sys, http_client_ptr client,
                                      std::chrono::milliseconds timeout);

} // namespace feedrouter

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::github_hook_task)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::github_hook_result)

#include "actors/github_hooks.hpp"

#include <string>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/detail/client_messages.hpp"
#include "core/log.hpp"

namespace feedrouter {

namespace {

/// GitHub refuses requests without a User-Agent; the API version pins the answers' form.
constexpr char user_agent[] = "feedrouter";
constexpr char api_version[] = "2022-11-28";

// -- one task ---------------------------------------------------------------------------

/// The step a task waits for an answer to, in the order they can run.
enum class step {
  create,       ///< POST the hook
  find,         ///< GET a page of the hook list, looking for the hook's URL
  update,       ///< PATCH the hook
  remove,       ///< DELETE the hook
};

/// A task's worker: it takes one task (delegated by the keeper), with the completion of its HTTP requests as a message
/// to itself.
using task_worker = github_hooks_actor::extend<caf::reacts_to<done_atom, client_result>>;

struct task_state {
  http_client_ptr client;
  std::chrono::milliseconds timeout{};
  github_hook_task task;
  caf::typed_response_promise<github_hook_result> rp;
  step waiting = step::create;
  std::size_t page = 1;
  bool created_after_gone = false; ///< an update found the hook gone and creates it anew

  static inline const char* name = "github-hook-task";
};

using task_pointer = task_worker::stateful_pointer<task_state>;

void finish(task_pointer self, github_answer answer, std::int64_t hook_id) {
  self->state.rp.deliver(github_hook_result{std::move(answer), hook_id});
  self->quit();
}

void send_call(task_pointer self, step next, const github_call& call) {
  auto& st = self->state;
  st.waiting = next;
  client_request req;
  req.destination = st.task.spec.api;
  req.destination.target = call.target;
  req.message.method = call.method;
  req.message.fields = {{"Authorization", "Bearer " + st.task.spec.access_token},
                        {"Accept", "application/vnd.github+json"},
                        {"X-GitHub-Api-Version", api_version},
                        {"User-Agent", user_agent}};
  if (!call.body.empty())
    req.message.fields.emplace_back("Content-Type", "application/json");
  req.message.body = call.body;
  req.timeout = st.timeout;
  req.owner = destination_owner::tenant;
  st.client->send(std::move(req), [handle = caf::actor_cast<task_worker>(self)](client_result result) {
    caf::anon_send(handle, done_atom::value, std::move(result));
  });
}

void start_create(task_pointer self) {
  send_call(self, step::create, create_hook_call(self->state.task.spec, self->state.task.hook));
}

void start_find(task_pointer self) {
  send_call(self, step::find, list_hooks_call(self->state.task.spec, self->state.page));
}

void start_update(task_pointer self) {
  auto& task = self->state.task;
  send_call(self, step::update, update_hook_call(task.spec, task.spec.hook_id, task.hook));
}

void start_remove(task_pointer self) {
  auto& task = self->state.task;
  send_call(self, step::remove, delete_hook_call(task.spec, task.spec.hook_id));
}

void start(task_pointer self) {
  auto& task = self->state.task;
  switch (task.what) {
    case github_hook_task::kind::install:
      return start_create(self);
    case github_hook_task::kind::update:
      return task.spec.hook_id == 0 ? start_find(self) : start_update(self);
    case github_hook_task::kind::remove:
      return task.spec.hook_id == 0 ? start_find(self) : start_remove(self);
  }
}

/// The hook is not at the id the task had, or no id was known: what to do once the list has been read.
void on_not_found(task_pointer self) {
  auto& st = self->state;
  switch (st.task.what) {
    case github_hook_task::kind::remove:
      return finish(self, {github_answer::kind::done, {}, {}}, 0);
    case github_hook_task::kind::update:
      return start_create(self);
    case github_hook_task::kind::install:
      // GitHub said a hook exists (422) but none has this URL: one for other events overlaps, or another refusal.
      return finish(self, {github_answer::kind::refused, "events", "GitHub refused the hook and has none for its URL"},
                    0);
  }
}

void on_found(task_pointer self, std::int64_t hook_id) {
  self->state.task.spec.hook_id = hook_id;
  if (self->state.task.what == github_hook_task::kind::remove)
    start_remove(self);
  else
    // Adopting: GitHub shows no secret, so the hook gets ours (and our events) in full.
    start_update(self);
}

void on_answer(task_pointer self, client_result& result) {
  auto& st = self->state;
  auto status = result.ok() ? result.response.status : 0;
  // The tenant is shown the kind of failure only; the detail is for the operator's log.
  auto transport = result.ok() ? std::string{} : std::string{failure_text(result.failure)};
  if (!result.ok())
    log(log_level::info, "github API ", st.task.spec.api.origin(), ": ", result.error);
  const auto& body = result.response.body;
  switch (st.waiting) {
    case step::create: {
      if (status == 422 && !st.created_after_gone) {
        // "Hook already exists on this repository": adopt it when it is ours (the same URL).
        st.page = 1;
        return start_find(self);
      }
      auto answer = judge_github_answer(github_operation::create, status, body, transport);
      if (answer.what != github_answer::kind::done)
        return finish(self, std::move(answer), 0);
      auto id = hook_id_of(body);
      if (!id)
        return finish(self, {github_answer::kind::unavailable, {}, "GitHub's answer holds no hook id"}, 0);
      return finish(self, std::move(answer), *id);
    }
    case step::find: {
      auto answer = judge_github_answer(github_operation::list, status, body, transport);
      if (answer.what != github_answer::kind::done)
        return finish(self, std::move(answer), 0);
      if (auto id = find_hook(body, st.task.hook.hook_url))
        return on_found(self, *id);
      if (is_full_page(body) && st.page < github_max_hook_pages) {
        ++st.page;
        return start_find(self);
      }
      return on_not_found(self);
    }
    case step::update: {
      auto answer = judge_github_answer(github_operation::update, status, body, transport);
      if (answer.what == github_answer::kind::gone) {
        st.created_after_gone = true;
        return on_not_found(self);
      }
      auto id = answer.what == github_answer::kind::done ? st.task.spec.hook_id : 0;
      return finish(self, std::move(answer), id);
    }
    case step::remove: {
      auto answer = judge_github_answer(github_operation::remove, status, body, transport);
      if (answer.what == github_answer::kind::gone)
        answer.what = github_answer::kind::done;
      return finish(self, std::move(answer), 0);
    }
  }
}

task_worker::behavior_type task_impl(task_pointer self, http_client_ptr client, std::chrono::milliseconds timeout) {
  auto& st = self->state;
  st.client = std::move(client);
  st.timeout = timeout;
  return {
    [self](github_atom, github_hook_task& task) -> caf::result<github_hook_result> {
      auto& st = self->state;
      st.task = std::move(task);
      st.rp = self->make_response_promise<github_hook_result>();
      start(self);
      return st.rp;
    },
    [self](done_atom, client_result& result) { on_answer(self, result); },
  };
}

// -- the keeper ---------------------------------------------------------------------------

struct keeper_state {
  http_client_ptr client;
  std::chrono::milliseconds timeout{};

  static inline const char* name = "github-hooks";
};

using keeper_pointer = github_hooks_actor::stateful_pointer<keeper_state>;

github_hooks_actor::behavior_type keeper_impl(keeper_pointer self, http_client_ptr client,
                                              std::chrono::milliseconds timeout) {
  self->state.client = std::move(client);
  self->state.timeout = timeout;
  return {
    [self](github_atom, github_hook_task& task) -> caf::result<github_hook_result> {
      // A worker per task: tasks of different registrations do not wait for each other's round trips. It answers
      // the asker itself and quits.
      auto worker = self->spawn(task_impl, self->state.client, self->state.timeout);
      return self->delegate(worker, github_atom::value, std::move(task));
    },
  };
}

} // namespace

github_hooks_actor spawn_github_hooks(caf::actor_system& sys, http_client_ptr client,
                                      std::chrono::milliseconds timeout) {
  return sys.spawn(keeper_impl, std::move(client), timeout);
}

} // namespace feedrouter

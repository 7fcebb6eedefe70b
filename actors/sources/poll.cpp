#include "actors/sources/poll.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include <caf/local_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/child_error.hpp"
#include "actors/detail/client_messages.hpp"
#include "actors/messages.hpp"
#include "core/log.hpp"
#include "core/poll_state.hpp"

namespace feedrouter {

namespace {

constexpr int http_not_modified = 304;
constexpr int http_no_content = 204;

/// The poll source with its own timer and HTTP completions, which are no part of the source protocol.
using poll_private = source_actor::extend<caf::reacts_to<tick_atom>,
                                          caf::reacts_to<done_atom, std::uint64_t, client_result>>;

struct poll_source_state {
  source_listener parent;
  poll_spec spec;
  std::string fire_body;
  http_client_ptr client;
  poll_state position; ///< what is stored (or, for validators alone, needs no storing)
  std::uint64_t poll_id = 0; ///< tells the response of the current poll from a stale one
  bool polling = false;      ///< a request or a commit is under way; ticks wait for it
  bool stopped = false;      ///< disabling was asked for: no further polls
  /// The document being taken in, kept until all its new items are committed (it may take several requests).
  std::string document;
  std::string document_etag;
  std::string document_last_modified;
  /// New items per request to the parent: halved when the parent refuses one (its buffer bound may be smaller than
  /// items_per_commit), doubled back after a document is taken in full.
  std::size_t commit_limit = items_per_commit;
  int refusals = 0;     ///< polls in a row answered 401, 403 or 404
  bool failing = false; ///< the last poll failed; its recovery is reported once

  static inline const char* name = "poll_source";
};

using poll_pointer = poll_private::stateful_pointer<poll_source_state>;

/// Returns whether `status` says that the URL will not serve this registration as configured.
bool is_refusal(int status) {
  return status == 401 || status == 403 || status == 404;
}

// The steps of one poll, in the order they run: start_poll -> on_response -> take_document -> on_committed ->
// finish_poll, with on_failure in place of the later steps when something goes wrong.

void arm(poll_pointer self) {
  self->delayed_send(self, self->state.spec.interval, tick_atom::value);
}

/// Ends a poll, failed or not: the next one starts an interval from now.
void finish_poll(poll_pointer self) {
  auto& st = self->state;
  st.polling = false;
  st.document = std::string{}; // release the memory of a large document now, not at the next poll
  st.document_etag.clear();
  st.document_last_modified.clear();
  if (!st.stopped)
    arm(self);
}

void on_success(poll_pointer self) {
  auto& st = self->state;
  st.refusals = 0;
  if (st.failing) {
    st.failing = false;
    self->send(st.parent, source_status_atom::value, std::string{});
  }
  finish_poll(self);
}

/// Counts a failed poll and shows it; a refusal repeated `failures_before_disable` times asks for disabling.
void on_failure(poll_pointer self, int status, std::string error) {
  auto& st = self->state;
  st.failing = true;
  self->send(st.parent, source_status_atom::value, error);
  if (is_refusal(status) && ++st.refusals >= st.spec.failures_before_disable) {
    st.stopped = true;
    self->send(st.parent, disable_atom::value, status,
               "the polled URL answered " + std::to_string(status) + " to " + std::to_string(st.refusals)
                 + " polls in a row");
  }
  finish_poll(self);
}

void take_document(poll_pointer self);

void on_committed(poll_pointer self, poll_state next, bool complete) {
  auto& st = self->state;
  st.position = std::move(next);
  if (!complete) {
    take_document(self);
    return;
  }
  st.commit_limit = std::min(items_per_commit, st.commit_limit * 2);
  on_success(self);
}

/// Hands the new items of the document to the parent, at most commit_limit per request, and takes each step's state
/// only once the parent has stored it.
void take_document(poll_pointer self) {
  auto& st = self->state;
  poll_document doc{st.document, st.document_etag, st.document_last_modified};
  auto step = next_poll_step(st.position, st.spec, doc, st.commit_limit);
  if (!step) {
    on_failure(self, 0, step.error().field + ": " + step.error().message);
    return;
  }
  if (!step->needs_commit()) {
    // Only the validators change: losing them in a crash costs one full fetch, not worth a write per poll.
    st.position = apply_poll_step(std::move(st.position), *step);
    on_success(self);
    return;
  }
  auto next = apply_poll_step(st.position, *step);
  auto checkpoint = to_checkpoint(next);
  std::vector<std::string> bodies;
  bodies.reserve(step->new_items.size());
  for (const auto& item : step->new_items)
    bodies.push_back(poll_event_body(item, st.fire_body));
  auto complete = step->complete;
  // No time-out: the parent always answers once its store has, and giving up earlier while the write may still
  // succeed would only fire these items twice.
  self->request(st.parent, caf::infinite, items_atom::value, std::move(bodies), std::move(checkpoint))
    .then(
      [self, next = std::move(next), complete](commit_atom) mutable {
        on_committed(self, std::move(next), complete);
      },
      [self](caf::error&) {
        // Busy or not active: nothing was stored, so the old state (validators included) polls these items again,
        // in a smaller request in case this one could never fit.
        auto& st = self->state;
        st.commit_limit = std::max<std::size_t>(1, st.commit_limit / 2);
        finish_poll(self);
      });
}

void on_response(poll_pointer self, std::uint64_t id, client_result& result) {
  auto& st = self->state;
  if (id != st.poll_id || !st.polling)
    return;
  if (!result.ok()) {
    log(log_level::debug, "poll of ", st.spec.target.origin(), " failed: ", result.error);
    return on_failure(self, 0, "GET failed: " + std::string{failure_text(result.failure)});
  }
  auto status = result.response.status;
  if (status == http_not_modified || status == http_no_content)
    return on_success(self);
  if (status < 200 || status >= 300)
    return on_failure(self, status, "the polled URL answered " + std::to_string(status));
  st.document = std::move(result.response.body);
  st.document_etag = std::string{result.response.field("ETag")};
  st.document_last_modified = std::string{result.response.field("Last-Modified")};
  take_document(self);
}

void start_poll(poll_pointer self) {
  auto& st = self->state;
  if (st.polling || st.stopped)
    return;
  st.polling = true;
  auto id = ++st.poll_id;
  if (!st.client)
    return on_failure(self, 0, "this provider was started without an HTTP client for poll sources");
  client_request req;
  req.destination = st.spec.target;
  req.message.method = "GET";
  req.message.fields = st.spec.headers;
  if (!st.position.etag.empty())
    req.message.fields.emplace_back("If-None-Match", st.position.etag);
  if (!st.position.last_modified.empty())
    req.message.fields.emplace_back("If-Modified-Since", st.position.last_modified);
  req.timeout = st.spec.timeout;
  // The completion runs on an I/O thread: it only turns the result into a message.
  st.client->send(std::move(req), [handle = caf::actor_cast<poll_private>(self), id](client_result result) {
    caf::anon_send(handle, done_atom::value, id, std::move(result));
  });
}

poll_private::behavior_type poll_source_impl(poll_pointer self, source_listener parent, poll_spec spec,
                                             std::string fire_body, std::string checkpoint, http_client_ptr client) {
  report_exceptions_as_errors(self);
  auto& st = self->state;
  st.parent = std::move(parent);
  st.position = restore_poll_state(checkpoint, spec);
  st.spec = std::move(spec);
  st.fire_body = std::move(fire_body);
  st.client = std::move(client);
  // The first poll runs at once: the sooner the baseline is set, the fewer items are taken as already known.
  self->send(self, tick_atom::value);
  return {
    // Items go through a stored request, which the parent refuses when it has no room: credit is not needed.
    [](credit_atom, std::int64_t) {},
    [self](tick_atom) { start_poll(self); },
    [self](done_atom, std::uint64_t id, client_result& result) { on_response(self, id, result); },
  };
}

} // namespace

source_actor spawn_poll_source(caf::local_actor* parent, poll_spec spec, std::string fire_body,
                               std::string checkpoint, http_client_ptr client) {
  return parent->spawn<caf::linked>(poll_source_impl, caf::actor_cast<source_listener>(parent), std::move(spec),
                                    std::move(fire_body), std::move(checkpoint), std::move(client));
}

} // namespace feedrouter

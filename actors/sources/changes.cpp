#include "actors/sources/changes.hpp"

#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/child_error.hpp"
#include "actors/detail/client_messages.hpp"
#include "actors/messages.hpp"
#include "actors/sources/changes_position.hpp"
#include "core/log.hpp"
#include "core/reconnect_backoff.hpp"

namespace feedrouter {

namespace {

using std::chrono::milliseconds;

constexpr milliseconds connect_timeout{15'000};


/// A change read from the stream and not yet handed to the parent (it has no credit for it yet).
struct waiting_change {
  std::string seq;
  std::string body;
};

enum class phase {
  authorizing, ///< exchanging the IAM API key for a token (registrations with iamApiKey)
  starting,   ///< reading the database's end for a since=now baseline, or having the parent store it
  connecting, ///< the stream is opened, its head not yet here
  streaming,  ///< the feed is open
  backing_off, ///< waiting to reconnect after a failure
  stopped,    ///< disabling was asked for: nothing more until the source is released
};

/// The changes source with its own timer and HTTP completions, which are no part of the source protocol.
using changes_private = source_actor::extend<caf::reacts_to<tick_atom, std::uint64_t>,
                                             caf::reacts_to<done_atom, std::uint64_t, stream_update>,
                                             caf::reacts_to<done_atom, std::uint64_t, client_result>>;

struct changes_source_state {
  source_listener parent;
  changes_spec spec;
  std::string fire_body;
  http_client_ptr client;
  std::optional<std::string> seq; ///< where the next connection starts; nullopt until a since=now baseline is stored
  std::int64_t credit = 0;
  std::deque<waiting_change> waiting; ///< at most the lines of one read
  line_stream_ptr stream;
  std::uint64_t attempt = 0; ///< tells the messages of the current connection attempt from stale ones
  phase now = phase::starting;
  bool read_pending = false;
  reconnect_backoff backoff;
  bool failing = false; ///< the parent was told of a failure; the recovery is reported once
  /// The IAM token (registrations with iamApiKey), in memory only, and when it is to be renewed (before it expires).
  std::optional<iam_token> token;
  caf::actor_clock::time_point renew_token_at;
  /// A 401 was answered with a fresh token already: a second one in a row means the key itself is refused.
  bool reauthorized = false;

  ~changes_source_state() {
    if (stream)
      stream->close();
  }

  static inline const char* name = "changes_source";
};

using changes_pointer = changes_private::stateful_pointer<changes_source_state>;

void connect(changes_pointer self);

void close_stream(changes_pointer self) {
  auto& st = self->state;
  if (st.stream)
    st.stream->close();
  st.stream = nullptr;
  st.read_pending = false;
  // These are read again from the last seq handed over.
  st.waiting.clear();
}

/// Tells the parent why the feed is down and tries again after a back-off.
void on_failure(changes_pointer self, std::string error) {
  auto& st = self->state;
  close_stream(self);
  ++st.attempt;
  st.now = phase::backing_off;
  st.failing = true;
  self->send(st.parent, source_status_atom::value, std::move(error));
  self->delayed_send(self, st.backoff.after_failure(), tick_atom::value, st.attempt);
}

/// Returns the token the next request carries; empty without iamApiKey.
std::string_view bearer(const changes_source_state& st) {
  return st.token ? std::string_view{st.token->access_token} : std::string_view{};
}

/// The database refused the credentials (401): with IAM the token may have expired early, so the first 401 after a
/// token was taken gets one more try with a new token; anything else disables the registration.
bool retry_with_new_token(changes_pointer self, int status) {
  auto& st = self->state;
  if (status != 401 || st.spec.iam_api_key.empty() || st.reauthorized)
    return false;
  st.reauthorized = true;
  st.token.reset();
  return true;
}

void disable(changes_pointer self, int status, std::string message) {
  auto& st = self->state;
  close_stream(self);
  ++st.attempt;
  st.now = phase::stopped;
  self->send(st.parent, disable_atom::value, status, std::move(message));
}

/// Hands waiting changes over as credit allows.
void hand_over(changes_pointer self) {
  auto& st = self->state;
  while (st.credit > 0 && !st.waiting.empty()) {
    auto change = std::move(st.waiting.front());
    st.waiting.pop_front();
    --st.credit;
    self->send(st.parent, event_atom::value, std::move(change.body), to_changes_checkpoint(st.spec, change.seq));
    st.seq = std::move(change.seq);
  }
}

/// Hands waiting changes over as credit allows, then asks the stream for more once none wait.
void pump(changes_pointer self) {
  auto& st = self->state;
  hand_over(self);
  if (st.now == phase::streaming && st.waiting.empty() && st.credit > 0 && !st.read_pending) {
    st.read_pending = true;
    st.stream->read();
  }
}

/// Queues the changes among `lines`; returns the error of an error line, which ends the lines taken.
std::optional<std::string> take_lines(changes_pointer self, std::vector<std::string>& lines) {
  auto& st = self->state;
  for (auto& line : lines) {
    auto kind = classify_change_line(line);
    switch (kind.what) {
      case change_line::kind::change:
        st.backoff.reset();
        st.waiting.push_back({std::move(kind.seq), change_event_body(line, st.spec.dbname, st.fire_body)});
        break;
      case change_line::kind::last_seq:
        // The server is closing the feed; the end of the stream follows and reconnects.
        break;
      case change_line::kind::error:
        // The server's own words stay in the operator's log.
        log(log_level::debug, "changes feed of ", st.spec.server.origin(), " database ", st.spec.dbname,
            " sent an error line: ", quoted_excerpt(kind.message));
        return std::string{"the changes feed sent an error line"};
      case change_line::kind::malformed:
        return "changes feed: " + kind.message;
    }
  }
  return std::nullopt;
}

void on_update(changes_pointer self, std::uint64_t attempt, stream_update& update) {
  auto& st = self->state;
  if (attempt != st.attempt || (st.now != phase::connecting && st.now != phase::streaming))
    return;
  if (!update.error.empty()) {
    log(log_level::debug, "changes feed of ", st.spec.server.origin(), " database ", st.spec.dbname, " failed: ",
        update.error);
    return on_failure(self, "changes feed: " + std::string{failure_text(update.failure)});
  }
  if (st.now == phase::connecting) {
    if (update.status < 200 || update.status >= 300) {
      log(log_level::debug, "changes feed of ", st.spec.server.origin(), " database ", st.spec.dbname,
          ": the database answered ", update.status, ": ", quoted_excerpt(update.body));
      if (retry_with_new_token(self, update.status))
        return connect(self);
      if (is_database_refusal(update.status))
        return disable(self, update.status, database_answer_text(update.status));
      return on_failure(self, database_answer_text(update.status));
    }
    st.now = phase::streaming;
    st.reauthorized = false;
    if (st.failing) {
      st.failing = false;
      self->send(st.parent, source_status_atom::value, std::string{});
    }
    return pump(self);
  }
  st.read_pending = false;
  auto error = take_lines(self, update.lines);
  if (!error && !update.ended)
    return pump(self);
  // What credit allows goes to the parent before the connection closes, so that a server (or a proxy) that always
  // ends the stream right after its lines still moves the feed forward. The rest is read again after the last one
  // handed over.
  hand_over(self);
  on_failure(self, error ? std::move(*error) : std::string{"the database ended the changes feed"});
}

void open_feed(changes_pointer self) {
  auto& st = self->state;
  st.now = phase::connecting;
  auto request = changes_feed_request(st.spec, *st.seq);
  stream_request req;
  req.destination = st.spec.server;
  req.destination.target = std::move(request.target);
  req.message.method = std::move(request.method);
  req.message.fields = database_fields(st.spec, bearer(st));
  if (!request.body.empty())
    req.message.fields.emplace_back("Content-Type", "application/json");
  req.message.body = std::move(request.body);
  req.connect_timeout = connect_timeout;
  // Two heartbeats missed in a row mean the connection is dead, even if TCP has not noticed.
  req.idle_timeout = 2 * std::chrono::duration_cast<milliseconds>(st.spec.heartbeat);
  // The completion runs on an I/O thread: it only turns the update into a message.
  auto handle = caf::actor_cast<changes_private>(self);
  st.stream = st.client->open_stream(std::move(req), [handle, attempt = st.attempt](stream_update update) {
    caf::anon_send(handle, done_atom::value, attempt, std::move(update));
  });
}

/// Reads the database's current end, for a since=now feed that has no position yet.
void read_baseline(changes_pointer self) {
  auto& st = self->state;
  st.now = phase::starting;
  auto req = changes_end_request(st.spec, connect_timeout, bearer(st));
  auto handle = caf::actor_cast<changes_private>(self);
  st.client->send(std::move(req), [handle, attempt = st.attempt](client_result result) {
    caf::anon_send(handle, done_atom::value, attempt, std::move(result));
  });
}

void on_baseline(changes_pointer self, std::uint64_t attempt, client_result& result) {
  auto& st = self->state;
  if (attempt != st.attempt || st.now != phase::starting)
    return;
  auto end = read_changes_end(result);
  if (!end.ok())
    log(log_level::debug, "reading where ", st.spec.server.origin(), " database ", st.spec.dbname,
        " ends failed: ", end.detail);
  if (!end.ok() && retry_with_new_token(self, end.status_code))
    return connect(self);
  if (!end.ok() && is_database_refusal(end.status_code))
    return disable(self, end.status_code, std::move(end.error));
  if (!end.ok())
    return on_failure(self, "reading where the database ends: " + end.error);
  // No time-out: the parent always answers once its store has.
  self->request(st.parent, caf::infinite, items_atom::value, std::vector<std::string>{},
                to_changes_checkpoint(st.spec, end.seq))
    .then(
      [self, attempt, seq = end.seq](commit_atom) {
        auto& st = self->state;
        if (attempt != st.attempt)
          return;
        st.seq = seq;
        connect(self);
      },
      [self, attempt](caf::error&) {
        // Not active or busy: nothing was stored; try again later without calling it a database failure.
        auto& st = self->state;
        if (attempt != st.attempt)
          return;
        st.now = phase::backing_off;
        self->delayed_send(self, reconnect_backoff::first_delay, tick_atom::value, ++st.attempt);
      });
}

/// Exchanges the IAM API key for a token; the key travels in the body and is never logged.
void fetch_token(changes_pointer self) {
  auto& st = self->state;
  st.now = phase::authorizing;
  auto handle = caf::actor_cast<changes_private>(self);
  st.client->send(iam_token_request(st.spec, connect_timeout), [handle, attempt = st.attempt](client_result result) {
    caf::anon_send(handle, done_atom::value, attempt, std::move(result));
  });
}

void on_token(changes_pointer self, std::uint64_t attempt, client_result& result) {
  auto& st = self->state;
  if (attempt != st.attempt || st.now != phase::authorizing)
    return;
  auto exchange = read_iam_exchange(result);
  if (!exchange.token) {
    log(log_level::debug, "IAM token for the changes feed of ", st.spec.server.origin(), " database ",
        st.spec.dbname, " failed: ", result.ok() ? exchange.error : result.error);
    if (exchange.refused)
      return disable(self, exchange.status_code, exchange.error + ": iamApiKey is refused");
    return on_failure(self, std::move(exchange.error));
  }
  st.renew_token_at = self->clock().now() + exchange.token->renew_after;
  st.token = std::move(exchange.token);
  connect(self);
}

/// Returns whether the next request needs a (new) IAM token first.
bool needs_token(changes_pointer self) {
  const auto& st = self->state;
  return !st.spec.iam_api_key.empty() && (!st.token || self->clock().now() >= st.renew_token_at);
}

void connect(changes_pointer self) {
  auto& st = self->state;
  ++st.attempt;
  if (!st.client)
    return on_failure(self, "this provider was started without an HTTP client for changes sources");
  if (needs_token(self))
    fetch_token(self);
  else if (st.seq)
    open_feed(self);
  else
    read_baseline(self);
}

changes_private::behavior_type changes_source_impl(changes_pointer self, source_listener parent, changes_spec spec,
                                                   std::string fire_body, std::string checkpoint,
                                                   http_client_ptr client) {
  report_exceptions_as_errors(self);
  auto& st = self->state;
  st.parent = std::move(parent);
  st.seq = restore_changes_seq(checkpoint, spec);
  if (!st.seq && spec.since != "now")
    st.seq = spec.since;
  st.spec = std::move(spec);
  st.fire_body = std::move(fire_body);
  st.client = std::move(client);
  connect(self);
  return {
    [self](credit_atom, std::int64_t n) {
      // Saturating: credit is a bound, and a bound of "very many" must not wrap around.
      auto& credit = self->state.credit;
      credit = n > std::numeric_limits<std::int64_t>::max() - credit ? std::numeric_limits<std::int64_t>::max()
                                                                       : credit + n;
      pump(self);
    },
    [self](tick_atom, std::uint64_t attempt) {
      if (attempt == self->state.attempt && self->state.now == phase::backing_off)
        connect(self);
    },
    [self](done_atom, std::uint64_t attempt, stream_update& update) { on_update(self, attempt, update); },
    [self](done_atom, std::uint64_t attempt, client_result& result) {
      if (self->state.now == phase::authorizing)
        on_token(self, attempt, result);
      else
        on_baseline(self, attempt, result);
    },
  };
}

} // namespace

source_actor spawn_changes_source(caf::local_actor* parent, changes_spec spec, std::string fire_body,
                                  std::string checkpoint, http_client_ptr client) {
  return parent->spawn<caf::linked>(changes_source_impl, caf::actor_cast<source_listener>(parent), std::move(spec),
                                    std::move(fire_body), std::move(checkpoint), std::move(client));
}

} // namespace feedrouter

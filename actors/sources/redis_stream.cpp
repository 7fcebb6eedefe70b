#include "actors/sources/redis_stream.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/child_error.hpp"
#include "actors/messages.hpp"
#include "actors/sources/redis_stream_messages.hpp"
#include "core/log.hpp"
#include "core/redis_stream_reply.hpp"
#include "core/reconnect_backoff.hpp"

namespace feedrouter {

namespace {

using std::chrono::milliseconds;

/// How long connecting (resolve, TCP, TLS) may take.
constexpr milliseconds connect_timeout{10'000};
/// How long an XREAD waits in Redis for new entries before it answers with none. Short, so that a dead connection
/// that nothing reports is found within a few seconds.
constexpr milliseconds read_block{2'000};
/// How long an exchange may take beyond what the server is told to wait.
constexpr milliseconds answer_grace{10'000};
/// Entries asked for in one XREAD at most (fewer when credit is lower); one reply stays within the client's bounds.
constexpr std::size_t read_count_limit = 500;

enum class phase {
  connecting, ///< connecting and logging in, or waiting to try again
  starting,   ///< without a position from this server and stream: having the parent store the baseline
  reading,    ///< XREAD after the position while there is credit
  stopped,    ///< disabling was asked for: nothing more until the source is released
};

/// The source with its timer and the client's answers, which are no part of the source protocol.
using redis_private = source_actor::extend<caf::reacts_to<tick_atom, std::uint64_t>,
                                           caf::reacts_to<done_atom, std::uint64_t, redis_connected>,
                                           caf::reacts_to<done_atom, std::uint64_t, redis_replies>>;

struct redis_source_state {
  source_listener parent;
  redis_stream_spec spec;
  std::string fire_body;
  redis_connector_ptr connector;
  redis_connection_ptr connection;
  /// The ID of the last entry handed over (or the stored baseline); nullopt until a baseline is stored.
  std::optional<stream_id> position;
  /// The baseline read at login while `position` is not known yet.
  std::optional<stream_id> baseline;
  std::int64_t credit = 0;
  phase now = phase::connecting;
  /// Tells the answers and timers of the current connection from those of an earlier one.
  std::uint64_t attempt = 0;
  bool reading = false;      ///< an XREAD is under way
  bool one_at_a_time = false; ///< the last reply was beyond the client's bounds: read one entry per XREAD for now
  reconnect_backoff backoff;
  bool failing = false;      ///< the parent was told of a failure; the recovery is reported once

  ~redis_source_state() {
    if (connection)
      connection->close();
  }

  static inline const char* name = "redis_stream_source";
};

using redis_pointer = redis_private::stateful_pointer<redis_source_state>;

void connect(redis_pointer self);
void read(redis_pointer self);
void on_logged_in(redis_pointer self, std::vector<resp_value>& replies);

void close_connection(redis_pointer self) {
  auto& st = self->state;
  ++st.attempt;
  st.reading = false;
  if (st.connection) {
    st.connection->close();
    st.connection.reset();
  }
}

/// Tells the parent of a failure, closes the connection and connects again after a back-off.
void retry_later(redis_pointer self, std::string error) {
  auto& st = self->state;
  close_connection(self);
  st.now = phase::connecting;
  st.failing = true;
  self->send(st.parent, source_status_atom::value, std::move(error));
  self->delayed_send(self, st.backoff.after_failure(), tick_atom::value, st.attempt);
}

void report_recovery(redis_pointer self) {
  auto& st = self->state;
  st.backoff.reset();
  if (!st.failing)
    return;
  st.failing = false;
  self->send(st.parent, source_status_atom::value, std::string{});
}

void disable(redis_pointer self, std::string message) {
  auto& st = self->state;
  close_connection(self);
  st.now = phase::stopped;
  self->send(st.parent, disable_atom::value, 0, std::move(message));
}

/// Acts on an error reply: disables for what retrying cannot fix, retries later for the rest.
void on_error_reply(redis_pointer self, const resp_value& reply) {
  auto refusal = classify_redis_error(reply.text);
  log(log_level::debug, "redis-stream feed of ", self->state.spec.server.text(), " stream ", self->state.spec.stream,
      ": the server answered: ", reply.text);
  if (refusal == redis_refusal::transient)
    return retry_later(self, refusal_text(refusal));
  disable(self, std::string{refusal_field(refusal)} + ": " + refusal_text(refusal));
}

void on_failure(redis_pointer self, const redis_failure& failure) {
  log(log_level::debug, "redis-stream feed of ", self->state.spec.server.text(), ": ", failure.detail);
  if (failure.what == redis_failure::kind::not_allowed)
    return disable(self, "url: " + failure_text(failure));
  if (failure.what == redis_failure::kind::protocol)
    self->state.one_at_a_time = true;
  retry_later(self, failure_text(failure));
}

void store_baseline(redis_pointer self, stream_id baseline) {
  auto& st = self->state;
  st.now = phase::starting;
  auto attempt = st.attempt;
  // No time-out: the parent always answers once its store has.
  self->request(st.parent, caf::infinite, items_atom::value, std::vector<std::string>{},
                to_redis_checkpoint(st.spec, baseline))
    .then(
      [self, attempt, baseline](commit_atom) {
        auto& st = self->state;
        if (attempt != st.attempt)
          return;
        st.position = baseline;
        st.now = phase::reading;
        read(self);
      },
      [self, attempt](caf::error&) {
        // Not active or busy: nothing was stored; log in and read the baseline again later, not as a failure.
        if (attempt == self->state.attempt) {
          close_connection(self);
          self->state.now = phase::connecting;
          self->delayed_send(self, reconnect_backoff::first_delay, tick_atom::value, self->state.attempt);
        }
      });
}

void on_connected(redis_pointer self, redis_connected& connected) {
  auto& st = self->state;
  if (connected.failure)
    return on_failure(self, connected.failure);
  st.connection = std::move(connected.connection);
  auto commands = login_commands(st.spec.server);
  if (!st.position && st.spec.start == "$")
    commands.push_back(last_entry_command(st.spec));
  if (commands.empty()) {
    std::vector<resp_value> none;
    return on_logged_in(self, none);
  }
  auto handle = caf::actor_cast<redis_private>(self);
  // The answer comes on an I/O thread: it only becomes a message.
  st.connection->exchange(std::move(commands), connect_timeout, [handle, attempt = st.attempt](redis_replies replies) {
    caf::anon_send(handle, done_atom::value, attempt, std::move(replies));
  });
}

void on_logged_in(redis_pointer self, std::vector<resp_value>& replies) {
  auto& st = self->state;
  for (const auto& reply : replies)
    if (reply.is_error())
      return on_error_reply(self, reply);
  if (st.position) {
    st.now = phase::reading;
    return read(self);
  }
  auto baseline = stream_id_zero;
  if (st.spec.start == "$") {
    auto last = read_last_id(replies.back());
    if (!last.ok())
      return on_failure(self, redis_failure{redis_failure::kind::protocol, last.malformed});
    baseline = last.value;
  }
  store_baseline(self, baseline);
}

/// Hands the entries of one XREAD reply to the parent, in order, each with its own checkpoint.
void hand_over(redis_pointer self, std::vector<stream_entry>& entries) {
  auto& st = self->state;
  auto n = entries_to_hand_over(entries, redis_max_field_bytes);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& entry = entries[i];
    if (entry.oversized())
      log(log_level::info, "redis-stream feed of stream ", st.spec.stream, ": entry ", entry.id.text(),
          " has a field larger than ", redis_max_field_bytes, " bytes; fired with it marked as oversized");
    self->send(st.parent, event_atom::value, stream_entry_body(st.spec.stream, entry, st.fire_body),
               to_redis_checkpoint(st.spec, entry.id));
    st.position = entry.id;
  }
  st.credit -= static_cast<std::int64_t>(n);
}

void on_read(redis_pointer self, std::vector<resp_value>& replies) {
  auto& st = self->state;
  st.reading = false;
  auto& reply = replies.front();
  if (reply.is_error())
    return on_error_reply(self, reply);
  auto entries = read_stream_entries(reply);
  if (!entries.ok())
    return on_failure(self, redis_failure{redis_failure::kind::protocol, entries.malformed});
  report_recovery(self);
  st.one_at_a_time = false;
  hand_over(self, entries.value);
  read(self);
}

void on_replies(redis_pointer self, std::uint64_t attempt, redis_replies& replies) {
  auto& st = self->state;
  if (attempt != st.attempt || st.now == phase::stopped)
    return;
  if (replies.failure)
    return on_failure(self, replies.failure);
  if (st.now == phase::connecting)
    return on_logged_in(self, replies.replies);
  on_read(self, replies.replies);
}

/// Asks for the entries after the position, as many as credit allows; nothing without credit.
void read(redis_pointer self) {
  auto& st = self->state;
  if (st.now != phase::reading || st.reading || st.credit <= 0 || !st.connection)
    return;
  st.reading = true;
  auto count = st.one_at_a_time ? 1 : static_cast<std::size_t>(std::min<std::int64_t>(st.credit, read_count_limit));
  auto handle = caf::actor_cast<redis_private>(self);
  st.connection->exchange({xread_command(st.spec, count, read_block.count(), *st.position)}, read_block + answer_grace,
                          [handle, attempt = st.attempt](redis_replies replies) {
                            caf::anon_send(handle, done_atom::value, attempt, std::move(replies));
                          });
}

void connect(redis_pointer self) {
  auto& st = self->state;
  close_connection(self);
  st.now = phase::connecting;
  auto handle = caf::actor_cast<redis_private>(self);
  st.connector->connect(st.spec.server, connect_timeout, [handle, attempt = st.attempt](redis_connected connected) {
    caf::anon_send(handle, done_atom::value, attempt, std::move(connected));
  });
}

void on_credit(redis_pointer self, std::int64_t n) {
  auto& st = self->state;
  // Saturating: credit is a bound, and a bound of "very many" must not wrap around.
  st.credit = n > std::numeric_limits<std::int64_t>::max() - st.credit ? std::numeric_limits<std::int64_t>::max()
                                                                       : st.credit + n;
  read(self);
}

redis_private::behavior_type redis_source_impl(redis_pointer self, source_listener parent, redis_stream_spec spec,
                                               std::string fire_body, std::string checkpoint,
                                               redis_connector_ptr connector) {
  report_exceptions_as_errors(self);
  auto& st = self->state;
  st.parent = std::move(parent);
  st.position = restore_redis_id(checkpoint, spec);
  st.spec = std::move(spec);
  st.fire_body = std::move(fire_body);
  st.connector = std::move(connector);
  if (st.connector)
    connect(self);
  else
    retry_later(self, "this provider was started without a Redis client");
  return {
    [self](credit_atom, std::int64_t n) { on_credit(self, n); },
    [self](tick_atom, std::uint64_t attempt) {
      if (attempt == self->state.attempt && self->state.now == phase::connecting && self->state.connector)
        connect(self);
    },
    [self](done_atom, std::uint64_t attempt, redis_connected& connected) {
      if (attempt == self->state.attempt && self->state.now == phase::connecting)
        on_connected(self, connected);
    },
    [self](done_atom, std::uint64_t attempt, redis_replies& replies) { on_replies(self, attempt, replies); },
  };
}

// -- the preparer -----------------------------------------------------------------------------------------------------

using preparer_private = source_preparer_actor::extend<caf::reacts_to<done_atom, redis_connected>,
                                                       caf::reacts_to<done_atom, redis_replies>>;

struct preparer_state {
  caf::typed_response_promise<prepared_source> answer;
  redis_connection_ptr connection;

  ~preparer_state() {
    if (connection)
      connection->close();
  }

  static inline const char* name = "redis_stream_preparer";
};

using preparer_pointer = preparer_private::stateful_pointer<preparer_state>;

void answer(preparer_pointer self, prepared_source prepared) {
  self->state.answer.deliver(std::move(prepared));
  self->quit();
}

void answer_error(preparer_pointer self, std::string field, std::string message) {
  prepared_source prepared;
  prepared.error = field_error{std::move(field), std::move(message)};
  answer(self, std::move(prepared));
}

/// Answers from the replies to the login, TYPE and XREVRANGE.
void answer_from(preparer_pointer self, const redis_stream_spec& spec, std::vector<resp_value>& replies) {
  for (const auto& reply : replies) {
    if (!reply.is_error())
      continue;
    auto refusal = classify_redis_error(reply.text);
    log(log_level::debug, "preparing a redis-stream feed of ", spec.server.text(), ": the server answered: ",
        reply.text);
    auto field = refusal_field(refusal);
    return answer_error(self, field.empty() ? "url" : std::string{field}, refusal_text(refusal));
  }
  auto type = read_key_type(replies[replies.size() - 2]);
  if (!type.ok())
    return answer_error(self, "url", failure_text(redis_failure{redis_failure::kind::protocol, {}}));
  if (type.value == stream_key::other)
    return answer_error(self, "stream", refusal_text(redis_refusal::wrong_type));
  if (type.value == stream_key::missing && !spec.create)
    return answer_error(self, "stream", refusal_text(redis_refusal::no_stream));
  auto baseline = stream_id_zero;
  if (spec.start == "$") {
    auto last = read_last_id(replies.back());
    if (!last.ok())
      return answer_error(self, "url", failure_text(redis_failure{redis_failure::kind::protocol, {}}));
    baseline = last.value;
  }
  prepared_source prepared;
  prepared.checkpoint = to_redis_checkpoint(spec, baseline);
  answer(self, std::move(prepared));
}

preparer_private::behavior_type preparer_impl(preparer_pointer self, redis_connector_ptr connector,
                                              redis_stream_spec spec, std::chrono::milliseconds timeout) {
  return {
    [=](prepare_atom) -> caf::typed_response_promise<prepared_source> {
      auto& st = self->state;
      st.answer = self->make_response_promise<prepared_source>();
      if (!connector->has_room()) {
        prepared_source full;
        full.unavailable = "this provider reads as many Redis streams as it may at once; try again later";
        answer(self, std::move(full));
        return st.answer;
      }
      // The answer comes on an I/O thread: it only becomes a message.
      connector->connect(spec.server, timeout, [handle = preparer_private{self}](redis_connected connected) {
        caf::anon_send(handle, done_atom::value, std::move(connected));
      });
      return st.answer;
    },
    [=](done_atom, redis_connected& connected) {
      if (connected.failure) {
        log(log_level::debug, "preparing a redis-stream feed of ", spec.server.text(), ": ", connected.failure.detail);
        return answer_error(self, "url", failure_text(connected.failure));
      }
      self->state.connection = std::move(connected.connection);
      auto commands = login_commands(spec.server);
      commands.push_back(type_command(spec));
      // XREVRANGE on a key of another type answers WRONGTYPE, which names the stream as TYPE's answer does.
      commands.push_back(last_entry_command(spec));
      self->state.connection->exchange(std::move(commands), timeout,
                                       [handle = preparer_private{self}](redis_replies replies) {
                                         caf::anon_send(handle, done_atom::value, std::move(replies));
                                       });
    },
    [=](done_atom, redis_replies& replies) {
      if (replies.failure) {
        log(log_level::debug, "preparing a redis-stream feed of ", spec.server.text(), ": ", replies.failure.detail);
        return answer_error(self, "url", failure_text(replies.failure));
      }
      answer_from(self, spec, replies.replies);
    },
  };
}

} // namespace

source_actor spawn_redis_stream_source(caf::local_actor* parent, redis_stream_spec spec, std::string fire_body,
                                       std::string checkpoint, redis_connector_ptr connector) {
  return parent->spawn<caf::linked>(redis_source_impl, caf::actor_cast<source_listener>(parent), std::move(spec),
                                    std::move(fire_body), std::move(checkpoint), std::move(connector));
}

source_preparer_actor spawn_redis_stream_preparer(caf::actor_system& sys, redis_connector_ptr connector,
                                                  redis_stream_spec spec, std::chrono::milliseconds timeout) {
  return sys.spawn(preparer_impl, std::move(connector), std::move(spec), timeout);
}

} // namespace feedrouter

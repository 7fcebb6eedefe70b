#include "actors/sources/mqtt.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <caf/local_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/child_error.hpp"
#include "actors/messages.hpp"
#include "actors/sources/mqtt_messages.hpp"
#include "actors/sources/mqtt_session.hpp"
#include "core/log.hpp"
#include "core/reconnect_backoff.hpp"

namespace feedrouter {

namespace {

using std::chrono::milliseconds;

/// How long the source waits before offering messages again that the parent refused for want of room.
constexpr milliseconds busy_retry{500};
/// Messages offered to the parent in one stored request at most: one store write for all of them. The broker sends
/// no more than its in-flight limit (mosquitto: 20) of QoS 1 messages before their PUBACKs anyway.
constexpr std::size_t max_messages_per_store = 256;

enum class phase {
  connecting,    ///< waiting for CONNACK
  unsubscribing, ///< dropping the subscription of a filter the registration no longer has
  subscribing,   ///< waiting for SUBACK
  reading,       ///< a read() is out
  storing,       ///< messages are with the parent, to be stored
  waiting,       ///< no connection: a reconnect is armed
  stopped,       ///< disabling was asked for: nothing more until the source is released
};

/// The mqtt source with its timers and the client's updates, which are no part of the source protocol.
using mqtt_private = source_actor::extend<caf::reacts_to<tick_atom, std::uint64_t>,
                                         caf::reacts_to<done_atom, std::uint64_t, mqtt_update>>;

struct mqtt_source_state {
  source_listener parent;
  mqtt_spec spec;
  std::string fire_body;
  mqtt_connector_ptr connector;
  mqtt_connection_ptr connection;
  /// What the stored checkpoint says the broker session holds; nullopt when it names another session or nothing.
  std::optional<mqtt_session_record> session;
  /// Received and not yet stored, in the order they came.
  std::vector<mqtt_message> pending;
  std::size_t store_limit = max_messages_per_store; ///< halved when the parent refuses, doubled when it stores
  phase now = phase::waiting;
  /// Tells the updates and timers of the current connection from those of an earlier one.
  std::uint64_t attempt = 0;
  reconnect_backoff backoff;
  bool failing = false; ///< the parent was told of a failure; the recovery is reported once

  mqtt_source_state() = default;
  mqtt_source_state(const mqtt_source_state&) = delete;
  mqtt_source_state& operator=(const mqtt_source_state&) = delete;

  ~mqtt_source_state() {
    // PAUSE and DELETE release the source: a DISCONNECT keeps the broker session without a will or a "client lost" in
    // the broker's log, and what was not acknowledged waits there for the next connection. (SIGTERM ends the process
    // without releasing each source: the connection just closes, and the session is kept the same.)
    if (connection)
      connection->disconnect();
  }

  static inline const char* name = "mqtt_source";
};

using mqtt_pointer = mqtt_private::stateful_pointer<mqtt_source_state>;

void connect(mqtt_pointer self);
void submit(mqtt_pointer self);

/// Drops the connection (without DISCONNECT: it failed) and everything that belongs to it.
void drop_connection(mqtt_pointer self) {
  auto& st = self->state;
  if (st.connection)
    st.connection->close();
  st.connection.reset();
  st.pending.clear();
  ++st.attempt;
}

void disable(mqtt_pointer self, std::string message) {
  auto& st = self->state;
  drop_connection(self);
  st.now = phase::stopped;
  self->send(st.parent, disable_atom::value, 0, std::move(message));
}

void report_recovery(mqtt_pointer self) {
  auto& st = self->state;
  st.backoff.reset();
  if (!st.failing)
    return;
  st.failing = false;
  self->send(st.parent, source_status_atom::value, std::string{});
}

/// Reports a failed connection to the parent and connects again after the back-off.
void fail(mqtt_pointer self, std::string error) {
  auto& st = self->state;
  drop_connection(self);
  st.now = phase::waiting;
  st.failing = true;
  self->send(st.parent, source_status_atom::value, std::move(error));
  self->delayed_send(self, st.backoff.after_failure(), tick_atom::value, st.attempt);
}

void start_reading(mqtt_pointer self) {
  auto& st = self->state;
  // The broker session now holds the registration's subscription: a reconnect need not subscribe again.
  st.session = mqtt_session_record{mqtt_session_name(st.spec), st.spec.topic, st.spec.qos, st.spec.clean_session};
  report_recovery(self);
  submit(self);
}

void subscribe(mqtt_pointer self) {
  auto& st = self->state;
  st.now = phase::subscribing;
  st.connection->subscribe(st.spec.topic, st.spec.qos);
}

void on_connected(mqtt_pointer self, const mqtt_update& update) {
  auto& st = self->state;
  if (update.return_code != 0) {
    std::string text{mqtt_refusal_text(update.return_code)};
    // A refused login, client id or protocol stays refused; a broker that is unavailable may come back.
    if (update.return_code == 3)
      return fail(self, "the broker refused the connection: " + text);
    return disable(self, "the MQTT broker refused the connection: " + text);
  }
  auto session_name = mqtt_session_name(st.spec);
  auto same_session = update.session_present && st.session && st.session->session == session_name;
  if (same_session && st.session->topic != st.spec.topic) {
    st.now = phase::unsubscribing;
    st.connection->unsubscribe(st.session->topic);
    return;
  }
  if (same_session && st.session->qos == st.spec.qos && !st.spec.clean_session)
    return start_reading(self);
  subscribe(self);
}

std::string event_body(const mqtt_source_state& st, const mqtt_message& message) {
  if (message.oversized)
    return mqtt_oversized_body(message.topic, message.payload_size, message.qos, message.retain, st.fire_body);
  return mqtt_event_body(st.spec, message.topic, message.payload, message.qos, message.retain, st.fire_body);
}

void on_stored(mqtt_pointer self, std::size_t count) {
  auto& st = self->state;
  // PUBACKs in the order the messages came (MQTT 3.1.1 section 4.6); QoS 0 messages need none.
  for (std::size_t i = 0; i < count; ++i)
    if (st.pending[i].qos > 0)
      st.connection->ack(st.pending[i].packet_id);
  st.pending.erase(st.pending.begin(), st.pending.begin() + static_cast<std::ptrdiff_t>(count));
  st.store_limit = std::min(max_messages_per_store, st.store_limit * 2);
  submit(self);
}

/// Offers the parent the messages received and not stored, or asks the broker for more when there are none.
void submit(mqtt_pointer self) {
  auto& st = self->state;
  if (st.pending.empty()) {
    st.now = phase::reading;
    st.connection->read();
    return;
  }
  st.now = phase::storing;
  auto count = std::min(st.pending.size(), st.store_limit);
  std::vector<std::string> bodies;
  bodies.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    bodies.push_back(event_body(st, st.pending[i]));
  auto attempt = st.attempt;
  // No time-out: the parent always answers once its store has, and giving up earlier while the write may still
  // succeed would only fire these messages twice.
  self->request(st.parent, caf::infinite, items_atom::value, std::move(bodies), to_mqtt_checkpoint(st.spec))
    .then(
      [self, attempt, count](commit_atom) {
        // Stored after the connection failed: the broker sends them again on the next one (at-least-once).
        if (attempt == self->state.attempt)
          on_stored(self, count);
      },
      [self, attempt, count](caf::error&) {
        // Busy or not active: nothing was stored; offer half as many, a moment later, without reading meanwhile.
        auto& st = self->state;
        if (attempt != st.attempt)
          return;
        st.store_limit = std::max<std::size_t>(1, count / 2);
        self->delayed_send(self, busy_retry, tick_atom::value, attempt);
      });
}

void on_update(mqtt_pointer self, std::uint64_t attempt, mqtt_update& update) {
  auto& st = self->state;
  if (attempt != st.attempt || st.now == phase::stopped || !st.connection)
    return;
  switch (update.what) {
    case mqtt_update::kind::connected:
      return on_connected(self, update);
    case mqtt_update::kind::unsubscribed:
      return subscribe(self);
    case mqtt_update::kind::subscribed:
      if (update.granted.empty() || update.granted.front() == mqtt_granted_refusal)
        return disable(self, "the MQTT broker refused the subscription to the topic filter");
      return start_reading(self);
    case mqtt_update::kind::messages:
      report_recovery(self);
      for (auto& message : update.messages)
        st.pending.push_back(std::move(message));
      return submit(self);
    case mqtt_update::kind::failed:
      log(log_level::debug, "mqtt feed of ", mqtt_session_name(st.spec), ": ", update.error);
      if (update.failure == mqtt_failure::not_allowed)
        return disable(self, "the MQTT broker's address is not allowed by the egress policy");
      // A stored registration beyond --max-mqtt-feeds (after a restart with a lower bound, or on UNPAUSE) waits for
      // a place like for a broker that is down.
      if (update.failure == mqtt_failure::no_room)
        return fail(self, std::string{mqtt_failure_text(update.failure)});
      return fail(self, "MQTT broker: " + std::string{mqtt_failure_text(update.failure)});
  }
}

void on_timer(mqtt_pointer self, std::uint64_t attempt) {
  auto& st = self->state;
  if (attempt != st.attempt)
    return;
  if (st.now == phase::waiting)
    connect(self);
  else if (st.now == phase::storing)
    submit(self);
}

void connect(mqtt_pointer self) {
  auto& st = self->state;
  ++st.attempt;
  st.now = phase::connecting;
  // The update comes on an I/O thread: it only becomes a message.
  st.connection = st.connector->connect(make_mqtt_request(st.spec),
                                        [handle = mqtt_private{self}, attempt = st.attempt](mqtt_update update) {
                                          caf::anon_send(handle, done_atom::value, attempt, std::move(update));
                                        });
}

mqtt_private::behavior_type mqtt_source_impl(mqtt_pointer self, source_listener parent, mqtt_spec spec,
                                             std::string fire_body, std::string checkpoint,
                                             mqtt_connector_ptr connector) {
  report_exceptions_as_errors(self);
  auto& st = self->state;
  st.parent = std::move(parent);
  st.session = read_mqtt_checkpoint(checkpoint);
  st.spec = std::move(spec);
  st.fire_body = std::move(fire_body);
  st.connector = std::move(connector);
  if (st.connector) {
    connect(self);
  } else {
    st.failing = true;
    self->send(st.parent, source_status_atom::value,
               std::string{"this provider was started without an MQTT client"});
  }
  return {
    // Messages go through a stored request, which the parent refuses when it has no room: credit is not needed.
    [](credit_atom, std::int64_t) {},
    [self](tick_atom, std::uint64_t attempt) { on_timer(self, attempt); },
    [self](done_atom, std::uint64_t attempt, mqtt_update& update) { on_update(self, attempt, update); },
  };
}

} // namespace

source_actor spawn_mqtt_source(caf::local_actor* parent, mqtt_spec spec, std::string fire_body,
                               std::string checkpoint, mqtt_connector_ptr connector) {
  return parent->spawn<caf::linked>(mqtt_source_impl, caf::actor_cast<source_listener>(parent), std::move(spec),
                                    std::move(fire_body), std::move(checkpoint), std::move(connector));
}

} // namespace feedrouter

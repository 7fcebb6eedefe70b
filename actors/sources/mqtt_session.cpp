#include "actors/sources/mqtt_session.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "actors/sources/mqtt_messages.hpp"
#include "core/log.hpp"

namespace feedrouter {

namespace {

/// The longest an mqtt connection stays silent before a PINGREQ; the broker gives up on it after 1.5 times this.
constexpr std::chrono::seconds mqtt_keepalive{30};
/// For resolving, connecting, TLS and CONNACK together, and for each SUBACK, UNSUBACK and PINGRESP.
constexpr std::chrono::milliseconds mqtt_timeout{15'000};
/// Room for the fixed header, topic and packet id of a PUBLISH around the largest payload fired.
constexpr std::size_t publish_overhead = 64 * 1024;
/// Messages one read hands to the source at most, so that what a source holds while its trigger has no room stays
/// within that many packet bounds, also for QoS 0 messages, which no in-flight window limits. It is also the most the
/// client takes before a SUBACK (the broker resends its unacknowledged messages first): at least the in-flight window
/// of common brokers (mosquitto 20, EMQX 32).
constexpr std::size_t messages_per_read = 32;

using preparer_private = source_preparer_actor::extend<caf::reacts_to<done_atom, mqtt_update>>;

struct preparer_state {
  caf::typed_response_promise<prepared_source> answer;
  mqtt_connection_ptr connection;
  /// The filter of the registration's old checkpoint to drop from the same session once subscribed; empty if none.
  std::string old_filter;
  bool answered = false;

  preparer_state() = default;
  preparer_state(const preparer_state&) = delete;
  preparer_state& operator=(const preparer_state&) = delete;

  ~preparer_state() {
    if (connection)
      connection->close();
  }

  static inline const char* name = "mqtt_preparer";
};

using preparer_pointer = preparer_private::stateful_pointer<preparer_state>;

void answer(preparer_pointer self, prepared_source prepared) {
  auto& st = self->state;
  if (st.answered)
    return;
  st.answered = true;
  st.answer.deliver(std::move(prepared));
  self->quit();
}

void refuse(preparer_pointer self, std::string field, std::string message) {
  prepared_source prepared;
  prepared.error = field_error{std::move(field), std::move(message)};
  answer(self, std::move(prepared));
}

/// Answers that the instance holds its bound of MQTT connections: the parameters may be fine, the CREATE is to wait.
void answer_full(preparer_pointer self) {
  prepared_source full;
  full.unavailable = std::string{mqtt_failure_text(mqtt_failure::no_room)};
  answer(self, std::move(full));
}

/// The parameter a tenant fixes when the broker refuses the connection with `return_code`.
std::string refused_field(const mqtt_spec& spec, int return_code) {
  if (return_code == 2)
    return "clientId";
  if (return_code == 4 || return_code == 5)
    return spec.password ? "password" : "username";
  return "url";
}

void done(preparer_pointer self, const mqtt_spec& spec) {
  auto& st = self->state;
  // DISCONNECT: the broker keeps the session and the subscription for the source, which connects next.
  st.connection->disconnect();
  st.connection.reset();
  prepared_source prepared;
  prepared.checkpoint = to_mqtt_checkpoint(spec);
  answer(self, std::move(prepared));
}

void on_update(preparer_pointer self, const mqtt_spec& spec, mqtt_update& update) {
  auto& st = self->state;
  if (!st.connection || st.answered)
    return;
  switch (update.what) {
    case mqtt_update::kind::connected:
      if (update.return_code != 0)
        return refuse(self, refused_field(spec, update.return_code),
                      "the MQTT broker refused the connection: " + std::string{mqtt_refusal_text(update.return_code)});
      st.connection->subscribe(spec.topic, spec.qos);
      return;
    case mqtt_update::kind::subscribed:
      if (update.granted.empty() || update.granted.front() == mqtt_granted_refusal)
        return refuse(self, "topic", "the MQTT broker refused the subscription to this topic filter");
      if (!st.old_filter.empty() && !spec.clean_session) {
        st.connection->unsubscribe(std::exchange(st.old_filter, std::string{}));
        return;
      }
      return done(self, spec);
    case mqtt_update::kind::unsubscribed:
      return done(self, spec);
    case mqtt_update::kind::messages:
      return; // never read
    case mqtt_update::kind::failed:
      log(log_level::debug, "preparing the mqtt feed of ", mqtt_session_name(spec), " failed: ", update.error);
      if (update.failure == mqtt_failure::no_room)
        return answer_full(self);
      return refuse(self, "url",
                    "cannot connect to the MQTT broker: " + std::string{mqtt_failure_text(update.failure)});
  }
}

preparer_private::behavior_type preparer_impl(preparer_pointer self, mqtt_connector_ptr connector, mqtt_spec spec,
                                              std::string checkpoint, std::chrono::milliseconds timeout) {
  auto old = read_mqtt_checkpoint(checkpoint);
  if (old && old->session == mqtt_session_name(spec) && old->topic != spec.topic)
    self->state.old_filter = old->topic;
  return {
    [=](prepare_atom) -> caf::typed_response_promise<prepared_source> {
      auto& st = self->state;
      st.answer = self->make_response_promise<prepared_source>();
      if (!connector->has_room()) {
        answer_full(self);
        return st.answer;
      }
      auto req = make_mqtt_request(spec);
      // Connecting and each answer get a part of the preparer's time; the registry's own time-out bounds the whole.
      req.timeout = std::min(req.timeout, timeout / 3);
      st.connection = connector->connect(std::move(req), [handle = preparer_private{self}](mqtt_update update) {
        caf::anon_send(handle, done_atom::value, std::move(update));
      });
      return st.answer;
    },
    [=](done_atom, mqtt_update& update) { on_update(self, spec, update); },
  };
}

} // namespace

mqtt_connect_request make_mqtt_request(const mqtt_spec& spec) {
  mqtt_connect_request req;
  req.host = spec.broker.host;
  req.port = spec.broker.port;
  req.tls = spec.broker.scheme == "mqtts";
  req.client_id = spec.client_id;
  req.username = spec.username;
  req.password = spec.password;
  req.clean_session = spec.clean_session;
  req.keepalive = mqtt_keepalive;
  req.timeout = mqtt_timeout;
  req.max_packet = mqtt_max_payload + publish_overhead;
  req.max_messages_per_read = messages_per_read;
  req.owner = destination_owner::tenant;
  return req;
}

bool mqtt_session_is_current(const std::string& checkpoint, const mqtt_spec& spec) {
  auto record = read_mqtt_checkpoint(checkpoint);
  return record && record->session == mqtt_session_name(spec) && record->topic == spec.topic
         && record->qos == spec.qos && record->clean_session == spec.clean_session;
}

source_preparer_actor spawn_mqtt_preparer(caf::actor_system& sys, mqtt_connector_ptr connector, mqtt_spec spec,
                                          std::string checkpoint, std::chrono::milliseconds timeout) {
  return sys.spawn(preparer_impl, std::move(connector), std::move(spec), std::move(checkpoint), timeout);
}

} // namespace feedrouter

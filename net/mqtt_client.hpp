#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/egress_policy.hpp"
#include "net/http_client.hpp"

namespace feedrouter {

class io_runtime;

/// Why an MQTT connection failed, in terms that may be shown to the tenant who named the broker: as with HTTP, a
/// refused, unreachable or filtered port and a failed TLS handshake are one kind, and the detail is for the operator.
enum class mqtt_failure {
  none,            ///< no failure
  not_allowed,     ///< the egress policy refused every address of the broker
  unresolved,      ///< the host name did not resolve (in time)
  no_connection,   ///< no CONNACK: cannot connect, timed out, TLS failed, or not an MQTT broker
  protocol,        ///< the broker sent what MQTT 3.1.1 forbids, or more than the client takes
  connection_lost, ///< after CONNACK the connection ended or broke
  no_answer,       ///< the broker did not answer a SUBSCRIBE, UNSUBSCRIBE or PINGREQ in time
  no_room,         ///< the instance holds its bound of connections (--max-mqtt-feeds); nothing was connected
};

/// Returns what a tenant is shown for `failure`: "not allowed by the egress policy", "cannot resolve the host name",
/// "no MQTT connection (cannot connect, timed out, TLS failed or not an MQTT broker)", ...
std::string_view mqtt_failure_text(mqtt_failure failure) noexcept;

/// Returns what a refusing CONNACK's `return_code` means (MQTT 3.1.1 section 3.2.2.3): "unacceptable protocol
/// version", "identifier rejected", "server unavailable", "bad user name or password", "not authorized".
std::string_view mqtt_refusal_text(int return_code) noexcept;

/// A granted QoS in a SUBACK that means the broker refused the topic filter (MQTT 3.1.1 section 3.9.3).
inline constexpr std::uint8_t mqtt_granted_refusal = 0x80;

/// One connection to make: where, who, and the bounds it keeps.
struct mqtt_connect_request {
  std::string host; ///< name or address (IPv6 without brackets)
  std::uint16_t port = 1883;
  bool tls = false; ///< mqtts: TLS 1.2 or later, verified like the HTTP client's https (CA file, SNI, host name)
  std::string client_id;
  std::optional<std::string> username;
  std::optional<std::string> password; ///< only with a username
  bool clean_session = false;
  /// The longest the client stays silent: a PINGREQ goes out after this much time without sending, and the broker
  /// closes the connection after 1.5 times it without hearing from the client. Zero turns both off.
  std::chrono::seconds keepalive{30};
  /// For resolving, connecting, the TLS handshake and CONNACK together; and for each SUBACK, UNSUBACK and PINGRESP.
  std::chrono::milliseconds timeout{15'000};
  /// Largest packet taken whole; a larger PUBLISH comes with its payload dropped (mqtt_message::oversized), any
  /// other larger packet fails the connection.
  std::size_t max_packet = 1024 * 1024 + 64 * 1024;
  /// Messages one read() hands over at most.
  std::size_t max_messages_per_read = 256;
  destination_owner owner = destination_owner::tenant;
};

/// One PUBLISH the broker sent.
struct mqtt_message {
  std::string topic;
  std::string payload;          ///< empty when `oversized`
  std::size_t payload_size = 0; ///< the payload's length as sent, also when it was dropped
  std::uint16_t packet_id = 0;  ///< QoS 1: what ack() takes; 0 for QoS 0
  std::uint8_t qos = 0;
  bool retain = false;
  bool dup = false;       ///< the broker sent it before, without an acknowledgement (a redelivery)
  bool oversized = false; ///< longer than mqtt_connect_request::max_packet: the payload was dropped as it came
};

/// What a connection reports to its handler.
struct mqtt_update {
  enum class kind {
    connected,    ///< CONNACK came: `session_present` and `return_code`; a refusal (code not 0) closes the connection
    subscribed,   ///< SUBACK came: `granted`
    unsubscribed, ///< UNSUBACK came
    messages,     ///< the answer to read(): at least one message
    failed,       ///< the connection failed and is closed: `failure` and `error`
  };
  kind what = kind::failed;
  bool session_present = false;
  std::uint8_t return_code = 0;
  std::vector<std::uint8_t> granted; ///< per filter: the QoS granted, or mqtt_granted_refusal
  std::vector<mqtt_message> messages;
  mqtt_failure failure = mqtt_failure::none;
  /// The operator's detail of a failure, e.g. "connect: Connection refused", "timeout", "PUBLISH with QoS 3"; never
  /// a credential.
  std::string error;
};

/// An MQTT 3.1.1 connection to a broker, as a client that acknowledges explicitly.
///
/// The steps run in this order: connect (resolve, TCP, TLS) -> CONNECT -> CONNACK, then as the owner asks:
/// SUBSCRIBE -> SUBACK, UNSUBSCRIBE -> UNSUBACK, read() -> PUBLISH..., ack() -> PUBACK; PINGREQ -> PINGRESP when the
/// client would otherwise be silent for `keepalive`.
///
/// A QoS 1 message is acknowledged only by ack(): until then the broker keeps it and, after a reconnect to the same
/// session, sends it again with DUP set. Bytes are taken from the socket only while a read() or a SUBACK, UNSUBACK or
/// CONNACK is awaited, so an owner that does not read slows the broker down through TCP. A PINGRESP is only awaited
/// while bytes are taken: a connection that is not read is not failed for being quiet.
///
/// Every method may be called from any thread; the handler runs on an I/O thread, never twice at once, and must not
/// block.
class mqtt_connection {
public:
  virtual ~mqtt_connection() = default;

  /// Subscribes to one topic filter at `qos` (0 or 1); the handler gets `subscribed` (or `failed`). After
  /// `connected` only, one SUBSCRIBE or UNSUBSCRIBE at a time.
  virtual void subscribe(std::string filter, std::uint8_t qos) = 0;

  /// Unsubscribes from one topic filter; the handler gets `unsubscribed` (or `failed`). As subscribe().
  virtual void unsubscribe(std::string filter) = 0;

  /// Asks for messages: the handler gets `messages` once, with at least one and at most max_messages_per_read, or
  /// `failed`. At most one read at a time.
  virtual void read() = 0;

  /// Acknowledges QoS 1 message `packet_id` (PUBACK). Call in the order the messages came (MQTT 3.1.1 section 4.6).
  virtual void ack(std::uint16_t packet_id) = 0;

  /// Sends DISCONNECT after what is queued, then closes: the broker keeps a persistent session without treating the
  /// client as lost. No update starts after disconnect() returns. Idempotent.
  virtual void disconnect() = 0;

  /// Closes the connection without DISCONNECT. No update starts after close() returns (one already running on an
  /// I/O thread may still finish). Idempotent.
  virtual void close() = 0;
};

using mqtt_connection_ptr = std::shared_ptr<mqtt_connection>;

/// Makes MQTT connections.
class mqtt_connector {
public:
  using update_handler = std::function<void(mqtt_update)>;

  virtual ~mqtt_connector() = default;

  /// Opens a connection for `req`; `on_update` first gets `connected` or `failed`. May be called from any thread.
  /// A connection takes a place among the connector's bound of open ones when it starts (after the closing
  /// connections of its session closed) and gives it back when it ends; with none free it fails with no_room.
  virtual mqtt_connection_ptr connect(mqtt_connect_request req, update_handler on_update) = 0;

  /// Returns whether a place for another connection is free now.
  virtual bool has_room() const = 0;
};

using mqtt_connector_ptr = std::shared_ptr<mqtt_connector>;

struct mqtt_connector_options {
  /// PEM bundle of the CAs that mqtts brokers are verified against; empty means the system's default store. The
  /// provider sets none (nor `insecure_skip_verify`): brokers are tenants' endpoints (docs/security.md).
  std::string ca_file{};
  /// Accepts any certificate from an mqtts broker. Insecure: the connection is encrypted but the broker is not
  /// authenticated.
  bool insecure_skip_verify = false;
  /// Judges every address a tenant's connection (destination_owner::tenant) tries, after DNS; a connection whose
  /// every address it refuses fails with mqtt_failure::not_allowed. Null: nothing is checked.
  std::shared_ptr<const egress_policy> egress;
  /// Connections open at once at most (--max-mqtt-feeds): each active mqtt registration holds one.
  std::size_t max_connections = 1000;
};

/// Returns a connector whose sockets live on `io`, which must outlive it and its connections. Throws
/// std::runtime_error with a one-line message when `ca_file` cannot be loaded.
mqtt_connector_ptr make_mqtt_connector(io_runtime& io, mqtt_connector_options opts = {});

} // namespace feedrouter

#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "core/outcome.hpp"
#include "core/param_reader.hpp"
#include "core/url.hpp"

namespace feedrouter {

/// The settings of an `mqtt` registration, validated (docs/mqtt-feed.md).
struct mqtt_spec {
  /// `url`, parsed: scheme mqtt (plain, port 1883 by default) or mqtts (TLS, port 8883), host and port; no path.
  url broker;
  /// `topic`: one topic filter (MQTT 3.1.1 section 4.7), `+` for one level and `#` for the rest.
  std::string topic;
  /// `qos`: the QoS subscribed with, 0 or 1. QoS 1 messages are acknowledged once stored; QoS 0 ones the broker does
  /// not send again, so what is lost on the way is lost.
  std::uint8_t qos = 1;
  /// `clientId`, or one derived from the trigger (default_mqtt_client_id): names the broker's session.
  std::string client_id;
  /// `username` / `password`: a password only with a user name (MQTT 3.1.1); never shown, never logged.
  std::optional<std::string> username;
  std::optional<std::string> password;
  /// `cleanSession`: false (the default) keeps the broker's session while disconnected, so messages published
  /// meanwhile are delivered later; true drops it at every disconnect.
  bool clean_session = false;
  /// `binary`: the payload is fired as base64 instead of JSON or text.
  bool binary = false;
};

// -- limits (docs/mqtt-feed.md) --

/// Longest topic filter accepted, in bytes.
inline constexpr std::size_t mqtt_max_topic_filter = 1024;
/// Longest `clientId` accepted; only 1 to 23 letters and digits are accepted by every broker (MQTT 3.1.1 section
/// 3.1.3.1), which the default keeps to.
inline constexpr std::size_t mqtt_max_client_id = 128;
inline constexpr std::size_t mqtt_max_username = 1024;
inline constexpr std::size_t mqtt_max_password = 8192;
/// Largest payload of a message that is fired; a larger one fires without it (mqtt_oversized_body).
inline constexpr std::size_t mqtt_max_payload = 1024 * 1024;

// -- the integer parameters and their ranges --
inline constexpr int_param mqtt_qos_param{"qos", 0, 1};
inline constexpr std::array<int_param, 1> mqtt_int_params = {mqtt_qos_param};

/// Validates the mqtt parameters (`url`, `topic`, `qos`, `clientId`, `username`, `password`, `cleanSession`,
/// `binary`); every failure names the parameter. Without `clientId` the client id is derived from `trigger_key`.
outcome<mqtt_spec> parse_mqtt_spec(const json_members& params, std::string_view trigger_key);

/// Returns why `filter` is not a topic filter (empty, too long, NUL, a `#` that is not alone at the end, a `+`
/// that is not a whole level), or nullopt.
std::optional<std::string> mqtt_filter_problem(std::string_view filter);

/// Returns the client id of a registration without `clientId`: "fr" and 21 hex digits of a hash of `trigger_key`, 23
/// characters that every broker accepts, the same on every start.
std::string default_mqtt_client_id(std::string_view trigger_key);

// -- what fires --

/// Returns the fire body of one message: {"topic", "payload", "qos", "retain"} plus the members of `fire_body`
/// (`trigger_payload`) that it does not have itself. The payload is the JSON value it holds when it is one, else a
/// string; with `binary`, base64.
std::string mqtt_event_body(const mqtt_spec& spec, std::string_view topic, std::string_view payload,
                            std::uint8_t qos, bool retain, std::string_view fire_body);

/// Returns the fire body of a message whose payload of `payload_bytes` was larger than mqtt_max_payload: as
/// mqtt_event_body without "payload", with "payloadBytes" and "payloadTooLarge": true, so the trigger learns that a
/// message came (and was acknowledged) rather than nothing.
std::string mqtt_oversized_body(std::string_view topic, std::size_t payload_bytes, std::uint8_t qos, bool retain,
                                std::string_view fire_body);

// -- the session a registration's position stands for --

/// Returns the checkpoint of a registration whose broker session holds `spec`'s subscription:
/// {"session": "<scheme>://<host>:<port>/<clientId>", "topic": ..., "qos": N, "cleanSession": B}. The broker keeps
/// what was not acknowledged, so this is all feedrouter stores: which session, subscribed to what.
std::string to_mqtt_checkpoint(const mqtt_spec& spec);

/// What a stored mqtt checkpoint says.
struct mqtt_session_record {
  std::string session; ///< "<scheme>://<host>:<port>/<clientId>"
  std::string topic;
  int qos = 0;
  bool clean_session = false;
};

/// Reads a checkpoint made by to_mqtt_checkpoint; nullopt for anything else ("" included).
std::optional<mqtt_session_record> read_mqtt_checkpoint(std::string_view checkpoint);

/// Returns "<scheme>://<host>:<port>/<clientId>" of `spec`: which broker session it uses.
std::string mqtt_session_name(const mqtt_spec& spec);

} // namespace feedrouter

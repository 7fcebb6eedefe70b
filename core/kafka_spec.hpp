#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/egress_policy.hpp"
#include "core/json.hpp"
#include "core/outcome.hpp"
#include "core/param_reader.hpp"

namespace feedrouter {

/// One broker of a bootstrap list: a host name or address, and a port.
struct kafka_broker {
  std::string host; ///< a name, a dotted quad, or IPv6 text without brackets
  std::uint16_t port = 9092;

  /// Returns "host:port" ("[::1]:9092" for IPv6), as librdkafka reads it.
  std::string text() const;
};

/// The settings of a `kafka` registration, validated: OpenWhisk's kafkaFeed (`brokers`) or messageHubFeed
/// (`kafka_brokers_sasl`, `user`, `password`) parameters, plus what feedrouter adds (`since`, `batchBytes`).
struct kafka_spec {
  /// `brokers` or `kafka_brokers_sasl`: the bootstrap list, in the order given, without duplicates.
  std::vector<kafka_broker> brokers;
  /// The parameter the brokers came from, which errors about them name.
  std::string brokers_field = "brokers";
  /// `topic`: Kafka's own rule, [A-Za-z0-9._-]{1,249}, and not "." or "..".
  std::string topic;
  bool json_data = false;    ///< `isJSONData`: a value that is JSON is fired as that JSON
  bool binary_key = false;   ///< `isBinaryKey`: the key is fired as base64
  bool binary_value = false; ///< `isBinaryValue`: the value is fired as base64; excludes isJSONData
  /// `user` and `password` (messageHubFeed): SASL over TLS. Both empty for kafkaFeed, which is plaintext.
  std::string user;
  std::string password;
  /// `saslMechanism`: PLAIN (OpenWhisk's, the default), SCRAM-SHA-256 or SCRAM-SHA-512; only with `user`.
  std::string sasl_mechanism = "PLAIN";
  /// `since`: "now" (the default: messages produced after CREATE) or "earliest" (everything the topic still holds).
  /// Only used while there is no position from these brokers and topic.
  std::string since = "now";
  /// `batchBytes`: the messages one fire carries at most, counted as OpenWhisk counts them (each message's JSON);
  /// a single message larger than this is dead-lettered, not fired.
  std::size_t batch_bytes = 900'000;

  /// Returns whether the registration authenticates with SASL over TLS (messageHubFeed).
  bool uses_sasl() const noexcept {
    return !user.empty();
  }
};

// -- limits (docs/kafka-feed.md) --

/// Brokers in one bootstrap list at most.
inline constexpr std::size_t kafka_max_brokers = 32;
/// Partitions of one topic a registration reads at most: its position holds one offset per partition.
inline constexpr std::size_t kafka_max_partitions = 256;

// -- the integer parameters and their ranges (docs/kafka-feed.md) --
inline constexpr int_param kafka_batch_bytes_param{"batchBytes", 1'024, 900'000};
inline constexpr std::array<int_param, 1> kafka_int_params = {kafka_batch_bytes_param};
/// The flags OpenWhisk reads leniently (true, "true", " TRUE "); stored as JSON booleans.
inline constexpr std::array<std::string_view, 3> kafka_flag_params = {"isJSONData", "isBinaryKey", "isBinaryValue"};

/// Validates the kafka parameters (`brokers` or `kafka_brokers_sasl` with `user` and `password`, `topic`,
/// `isJSONData`, `isBinaryKey`, `isBinaryValue`, `saslMechanism`, `since`, `batchBytes`); every failure names the
/// parameter. A broker that `egress` refuses without resolving it (a literal address, localhost) fails naming the
/// brokers' parameter; one whose name resolves to a refused address fails when the provider connects to it.
outcome<kafka_spec> parse_kafka_spec(const json_members& params, const egress_policy& egress);

/// Returns `params` with each flag of kafka_flag_params that parse_kafka_spec accepted written as a JSON boolean, so
/// that a registration is stored and shown normalized.
json_members normalize_kafka_flags(json_members params);

/// Returns where a position comes from: the sorted broker list and the topic, "b1:9092,b2:9092/orders". A position
/// taken on other brokers or another topic is not resumed from.
std::string kafka_source(const kafka_spec& spec);

// -- the client's configuration ------------------------------------------------------------------------------------

/// How the provider verifies the brokers' TLS certificates. The provider passes none: brokers are tenants' endpoints,
/// verified against the system's store (docs/security.md); the options are for tests with brokers of their own.
struct kafka_tls_options {
  std::string ca_file;               ///< PEM bundle; empty: the system's store
  bool insecure_skip_verify = false; ///< --insecure-skip-verify: no certificate or host name check
};

/// How much a consumer prefetches: what bounds the memory of one registration's client.
struct kafka_fetch_bounds {
  std::size_t queue_kbytes = 1024;    ///< prefetched messages held, over all partitions (one queue)
  std::size_t partition_bytes = 262'144; ///< fetched per partition and request
  std::size_t request_bytes = 2'097'152; ///< fetched per request
  std::size_t response_bytes = 4'194'816; ///< the largest response read: the largest message batch accepted
  std::size_t wait_ms = 500; ///< how long a broker may hold a fetch that found nothing new
};

/// Returns the librdkafka properties of a consumer for `spec`, in the order they are set: the bootstrap list, TLS and
/// SASL for messageHubFeed, no offset commits or stores (the position is the provider's), errors instead of silent
/// offset resets, every message as it is written (read_uncommitted, as OpenWhisk's provider reads), and the fetch
/// bounds.
std::vector<std::pair<std::string, std::string>> kafka_client_properties(const kafka_spec& spec,
                                                                         const kafka_tls_options& tls,
                                                                         const kafka_fetch_bounds& bounds);

/// Returns the host of a broker as librdkafka names it: its node name "host:port" (what the connect callback gets),
/// "[::1]:9092", or a full broker name "sasl_ssl://host:port/1"; for the egress policy's host name rules. Empty when
/// the name has no host.
std::string kafka_broker_host(std::string_view broker_name);

} // namespace feedrouter

#pragma once

// What the mqtt end-to-end tests share: CREATE bodies for the test broker, publishing numbered messages, and reading
// the numbers back out of the fires the fake controller recorded.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/trigger_ref.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/mosquitto_server.hpp"

namespace feedrouter::test {

/// How long a message may take to reach the controller; reached only when something is broken.
inline constexpr std::chrono::milliseconds mqtt_message_timeout{60'000};

/// Returns a CREATE body of an mqtt feed on topic filter `topic` of `broker`, with `more_members` (raw JSON members
/// without braces) added.
std::string mqtt_create_body(const mosquitto_server& broker, std::string_view topic,
                             std::string_view more_members = {});

/// Publishes messages `first` to `first + count - 1` to `topic` at QoS 1, each with the payload {"n": number}.
void publish_numbered(mosquitto_server& broker, const std::string& topic, int first, int count);

/// Returns the number of every message the fires of `trigger` carried (one per fire, or `events` of a batch), in the
/// order the controller received them.
std::vector<std::int64_t> fired_numbers(const e2e_fixture& fx, const trigger_ref& trigger);

/// Waits until the fires of `trigger` carried at least `n` messages or `timeout` passed; returns whether they did.
bool wait_for_numbers(const e2e_fixture& fx, const trigger_ref& trigger, std::size_t n,
                      std::chrono::milliseconds timeout = mqtt_message_timeout);

} // namespace feedrouter::test

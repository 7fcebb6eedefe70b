#pragma once

// What the kafka end-to-end tests share: CREATE bodies for the mock cluster, and reading the messages out of the fires
// the fake controller recorded.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/trigger_ref.hpp"
#include "tests/e2e/e2e_fixture.hpp"
#include "tests/support/kafka_mock.hpp"

namespace feedrouter::test {

/// How long a message may take to reach the controller; reached only when something is broken.
inline constexpr std::chrono::milliseconds message_timeout{30'000};

/// One message as a fire carried it.
struct fired_message {
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::string key;
  std::string value;
};

/// Returns a CREATE body of a kafka feed on `topic` of `kafka`'s brokers, with `more_members` (raw JSON members without
/// braces) added.
std::string kafka_create_body(const kafka_mock& kafka, std::string_view topic, std::string_view more_members = {});

/// Returns every message the fires of `trigger` carried, in the order the controller received them.
std::vector<fired_message> fired_messages(const e2e_fixture& fx, const trigger_ref& trigger);

/// Waits until the fires of `trigger` carried at least `n` messages or `timeout` passed; returns whether they did.
bool wait_for_messages(const e2e_fixture& fx, const trigger_ref& trigger, std::size_t n,
                       std::chrono::milliseconds timeout = message_timeout);

/// Checks that `messages` holds each (partition, offset) once, and each partition's offsets in increasing order.
void check_each_once_in_order(const std::vector<fired_message>& messages);

} // namespace feedrouter::test

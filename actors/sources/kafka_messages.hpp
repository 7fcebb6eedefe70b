#pragma once

// The Kafka client's answers as messages: the kafka source and its preparer hand them to themselves. Private to
// actors/sources/: no protocol between actors carries them.

#include <caf/allowed_unsafe_message_type.hpp>

#include "actors/sources/kafka_client.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::kafka_topic_state)

#pragma once

// The Redis client's answers as messages: the redis-stream source and its preparer hand them to themselves. Private to
// actors/sources/: no protocol between actors carries them.

#include <caf/allowed_unsafe_message_type.hpp>

#include "net/redis_client.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::redis_connected)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::redis_replies)

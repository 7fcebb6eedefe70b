#pragma once

// The MQTT client's updates as messages: the mqtt source and its preparer hand them to themselves. Private to
// actors/sources/: no protocol between actors carries them.

#include <caf/allowed_unsafe_message_type.hpp>

#include "net/mqtt_client.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::mqtt_update)

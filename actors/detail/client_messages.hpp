#pragma once

// The results of the HTTP client as messages: an actor that sends a request hands its completion to itself as one of
// these. Private to actors/: no protocol between actors carries them.

#include <caf/allowed_unsafe_message_type.hpp>

#include "net/http_client.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::client_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(feedrouter::stream_update)

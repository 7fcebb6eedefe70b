#pragma once

// Private to net/: the text helpers the HTTP client shares with the server are the general ones in core/text.hpp
// (case, tokens, line breaks, host:port). The server renders no error bodies itself: the application does, through
// http_server::options::render_error.

#include "core/text.hpp"

#pragma once

#include <cstdint>

namespace feedrouter::test {

/// Returns a 127.0.0.1 port that was free a moment ago: the kernel picks it for a socket bound to port 0, which is
/// closed again. Throws std::system_error when it cannot.
std::uint16_t pick_free_port();

} // namespace feedrouter::test

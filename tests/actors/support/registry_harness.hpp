#pragma once

#include <string>
#include <string_view>

#include "actor_fixture.hpp"

namespace feedrouter::test {

/// Returns the number of times `needle` occurs in `text`.
std::size_t occurrences_of(std::string_view text, std::string_view needle);

/// Returns the value of the gauge feedrouter_registrations{state="..."} in `stats`.
std::int64_t registrations_in(const metrics& stats, registration_state state);

} // namespace feedrouter::test

#pragma once

#include <string>
#include <string_view>

#include "actor_fixture.hpp"

namespace feedrouter::test {

/// Returns the number of times `needle` occurs in `text`.
std::size_t occurrences_of(std::string_view text, std::string_view needle);

/// Returns the gauge feedrouter_registrations{feed, state} of `state` in `stats`, summed over the feed kinds.
std::int64_t registrations_in(const metrics& stats, registration_state state);

} // namespace feedrouter::test

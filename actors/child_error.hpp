#pragma once

#include <string>

#include <caf/fwd.hpp>

namespace feedrouter {

/// Makes a crashing child report the exception's message as its exit reason, so its supervisor can show it.
void report_exceptions_as_errors(caf::scheduled_actor* child);

/// Returns the text of a child's exit reason: the exception message where there is one.
std::string describe_child_error(const caf::error& reason);

} // namespace feedrouter

#pragma once

#include <iosfwd>

#include "app/options.hpp"

namespace feedrouter {

/// Runs `feedrouter check-config` (the unit's ExecStartPre, and an operator's check before a restart) and returns its
/// exit code: 0 when a start would find nothing wrong, 2 otherwise.
///
/// Checks, without starting anything: the file of `check-config --config FILE` (its lines, then its assignments,
/// applied to the environment, and the flags parsed again with them); FEEDROUTER_* variables that no flag reads (a
/// misspelt name the service would silently ignore); that --ca-file can be read; and the store as --check-store does
/// it, through the store interface. A store held by a running feedrouter is reported as such, and its secrets key
/// file is still read. Each problem is one line on `err`; what was found sound goes to `out`.
int run_check_config(int argc, char** argv, options opts, std::ostream& out, std::ostream& err);

} // namespace feedrouter

#pragma once

#include <functional>
#include <string>

namespace feedrouter::test {

/// How a scenario run in a child process ended.
struct isolated_outcome {
  bool passed = false;
  std::string description; ///< "passed", what the scenario found wrong, or how the child process died
};

/// Runs `scenario` in a forked child process, so that a crash of the code under test fails only the calling check
/// instead of the whole test run. The scenario returns an empty string when everything was as expected, otherwise a
/// description of what was not.
///
/// Call it before any actor system exists in the test (not from a fixture test): the child must start single-threaded.
isolated_outcome run_isolated(const std::function<std::string()>& scenario);

} // namespace feedrouter::test

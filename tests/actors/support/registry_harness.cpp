#include "registry_harness.hpp"

#include <sstream>

namespace feedrouter::test {

std::size_t occurrences_of(std::string_view text, std::string_view needle) {
  std::size_t result = 0;
  for (auto pos = text.find(needle); pos != std::string_view::npos; pos = text.find(needle, pos + needle.size()))
    ++result;
  return result;
}

std::int64_t registrations_in(const metrics& stats, registration_state state) {
  auto prefix = "feedrouter_registrations{state=\"" + std::string{to_string(state)} + "\"} ";
  std::istringstream lines{stats.render()};
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(prefix, 0) == 0)
      return std::stoll(line.substr(prefix.size()));
  return -1;
}

} // namespace feedrouter::test

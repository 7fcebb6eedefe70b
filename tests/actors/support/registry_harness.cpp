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
  // Summed over the feed label: feedrouter_registrations{feed="...",state="..."} N
  auto state_label = ",state=\"" + std::string{to_string(state)} + "\"} ";
  std::istringstream lines{stats.render()};
  std::int64_t sum = 0;
  for (std::string line; std::getline(lines, line);) {
    auto at = line.find(state_label);
    if (line.rfind("feedrouter_registrations{", 0) == 0 && at != std::string::npos)
      sum += std::stoll(line.substr(at + state_label.size()));
  }
  return sum;
}

} // namespace feedrouter::test

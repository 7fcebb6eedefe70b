#include "metrics_sample.hpp"

#include <sstream>

namespace feedrouter::test {

std::int64_t metric_sample(const metrics& stats, const std::string& series) {
  std::istringstream lines{stats.render()};
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(series + ' ', 0) == 0)
      return std::stoll(line.substr(series.size() + 1));
  return -1;
}

} // namespace feedrouter::test

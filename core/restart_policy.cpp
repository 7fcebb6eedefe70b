#include "core/restart_policy.hpp"

#include <algorithm>

namespace feedrouter {

std::optional<std::chrono::milliseconds> restart_policy::on_crash(clock::time_point now) {
  while (!crashes_.empty() && now - crashes_.front() > opts_.window)
    crashes_.pop_front();
  crashes_.push_back(now);
  if (crashes_.size() > opts_.max_restarts)
    return std::nullopt;
  auto delay = opts_.first_delay;
  for (std::size_t i = 1; i < crashes_.size() && delay < opts_.max_delay; ++i)
    delay *= 2;
  return std::min(delay, opts_.max_delay);
}

} // namespace feedrouter

#include "core/restart_policy.hpp"

#include <algorithm>

namespace feedrouter {

std::optional<std::chrono::milliseconds> restart_policy::on_crash(clock::time_point now) {
  auto expired = std::find_if(crashes_.begin(), crashes_.end(),
                              [&](clock::time_point t) { return now - t <= opts_.window; });
  crashes_.erase(crashes_.begin(), expired);
  crashes_.push_back(now);
  if (crashes_.size() > opts_.max_restarts)
    return std::nullopt;
  auto delay = opts_.first_delay;
  for (std::size_t i = 1; i < crashes_.size() && delay < opts_.max_delay; ++i)
    delay *= 2;
  return std::min(delay, opts_.max_delay);
}

} // namespace feedrouter

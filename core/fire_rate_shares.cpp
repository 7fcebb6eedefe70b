#include "core/fire_rate_shares.hpp"

namespace feedrouter {

rate_limiter::share_map fire_rate_shares(const std::vector<namespace_split>& splits) {
  rate_limiter::share_map result;
  for (const auto& split : splits)
    if (split.here > 0 && split.here < split.total)
      result.emplace(split.ns, static_cast<double>(split.here) / static_cast<double>(split.total));
  return result;
}

} // namespace feedrouter

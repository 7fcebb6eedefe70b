#pragma once

// A namespace's fire rate in a cluster (docs/architecture.md section 9, docs/cluster.md): the instances that run its
// registrations share --namespace-fire-rate in proportion to how many of them each runs, so that their rates add up to
// the namespace's.

#include <cstddef>
#include <string>
#include <vector>

#include "core/rate_limiter.hpp"

namespace feedrouter {

/// How one namespace's registrations lie over a cluster, as one instance counts them.
struct namespace_split {
  std::string ns;
  std::size_t here = 0;  ///< in the shards this instance holds
  std::size_t total = 0; ///< in every shard
};

/// Returns the part of each namespace's fire rate this instance takes: here / total for a namespace it runs only some
/// registrations of. A namespace it runs all of, or none of, is left out and gets the whole rate: one it runs none of
/// fires nothing here, and one that has registrations here only since the count was taken gets the whole rate until
/// the next count.
rate_limiter::share_map fire_rate_shares(const std::vector<namespace_split>& splits);

} // namespace feedrouter

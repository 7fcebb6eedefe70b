#include "actors/cluster_metrics.hpp"

#include <sstream>

namespace feedrouter {

std::string cluster_metrics::render() const {
  std::ostringstream out;
  auto load = [](const auto& x) { return x.load(std::memory_order_relaxed); };
  out << "# HELP feedrouter_shards_held Shard leases this instance holds.\n"
      << "# TYPE feedrouter_shards_held gauge\n"
      << "feedrouter_shards_held " << load(shards_held_) << '\n'
      << "# HELP feedrouter_lease_renewals_total Shard leases renewed.\n"
      << "# TYPE feedrouter_lease_renewals_total counter\n"
      << "feedrouter_lease_renewals_total " << load(renewals_) << '\n'
      << "# HELP feedrouter_lease_losses_total Shard leases lost: not renewed in time, or held by another instance.\n"
      << "# TYPE feedrouter_lease_losses_total counter\n"
      << "feedrouter_lease_losses_total " << load(losses_) << '\n'
      << "# HELP feedrouter_takeovers_total Shard leases taken over from an instance that let them expire.\n"
      << "# TYPE feedrouter_takeovers_total counter\n"
      << "feedrouter_takeovers_total " << load(takeovers_) << '\n'
      << "# HELP feedrouter_requests_forwarded_total Requests forwarded to the instance running their registration.\n"
      << "# TYPE feedrouter_requests_forwarded_total counter\n"
      << "feedrouter_requests_forwarded_total " << load(forwards_) << '\n';
  return out.str();
}

} // namespace feedrouter

#include "actors/metrics.hpp"

#include <sstream>
#include <utility>

namespace feedrouter {

void metrics::record_fire(bool ok, std::chrono::microseconds took) {
  (ok ? fires_ok_ : fires_failed_).fetch_add(1, std::memory_order_relaxed);
  auto ms = took.count() / 1000;
  std::size_t bucket = 0;
  while (bucket < latency_bounds_ms.size() && ms >= latency_bounds_ms[bucket])
    ++bucket;
  latency_buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  latency_sum_us_.fetch_add(static_cast<std::uint64_t>(took.count()), std::memory_order_relaxed);
}

void metrics::record_state_change(std::optional<registration_state> from, std::optional<registration_state> to) {
  if (from)
    registrations_[static_cast<std::size_t>(*from)].fetch_sub(1, std::memory_order_relaxed);
  if (to)
    registrations_[static_cast<std::size_t>(*to)].fetch_add(1, std::memory_order_relaxed);
}

std::int64_t metrics::registrations() const {
  std::int64_t total = 0;
  for (const auto& count : registrations_)
    total += count.load(std::memory_order_relaxed);
  return total;
}

std::string metrics::render() const {
  std::ostringstream out;
  auto load = [](const auto& x) { return x.load(std::memory_order_relaxed); };
  out << "# HELP feedrouter_fires_total Trigger fires by outcome.\n"
      << "# TYPE feedrouter_fires_total counter\n"
      << "feedrouter_fires_total{outcome=\"ok\"} " << load(fires_ok_) << '\n'
      << "feedrouter_fires_total{outcome=\"failed\"} " << load(fires_failed_) << '\n';
  out << "# HELP feedrouter_fire_duration_seconds Time from sending a fire to its answer.\n"
      << "# TYPE feedrouter_fire_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < latency_bounds_ms.size(); ++i) {
    cumulative += load(latency_buckets_[i]);
    out << "feedrouter_fire_duration_seconds_bucket{le=\"" << static_cast<double>(latency_bounds_ms[i]) / 1000
        << "\"} " << cumulative << '\n';
  }
  cumulative += load(latency_buckets_.back());
  out << "feedrouter_fire_duration_seconds_bucket{le=\"+Inf\"} " << cumulative << '\n'
      << "feedrouter_fire_duration_seconds_sum " << static_cast<double>(load(latency_sum_us_)) / 1e6 << '\n'
      << "feedrouter_fire_duration_seconds_count " << cumulative << '\n';
  out << "# HELP feedrouter_fires_in_flight Fire requests on the wire.\n"
      << "# TYPE feedrouter_fires_in_flight gauge\n"
      << "feedrouter_fires_in_flight " << load(fires_in_flight_) << '\n';
  out << "# HELP feedrouter_registrations Registrations by state.\n"
      << "# TYPE feedrouter_registrations gauge\n";
  for (auto state : {registration_state::active, registration_state::paused, registration_state::disabled})
    out << "feedrouter_registrations{state=\"" << to_string(state) << "\"} "
        << load(registrations_[static_cast<std::size_t>(state)]) << '\n';
  out << "# HELP feedrouter_api_requests_total Requests to the control API.\n"
      << "# TYPE feedrouter_api_requests_total counter\n"
      << "feedrouter_api_requests_total " << load(api_requests_) << '\n';
  out << "# HELP feedrouter_admin_actions_total Registrations operators disabled (ADMIN) or enabled.\n"
      << "# TYPE feedrouter_admin_actions_total counter\n";
  for (auto [action, name] : {std::pair{admin_action::disable, "disable"}, std::pair{admin_action::enable, "enable"}})
    out << "feedrouter_admin_actions_total{action=\"" << name << "\"} "
        << load(admin_actions_[static_cast<std::size_t>(action)]) << '\n';
  return out.str();
}

} // namespace feedrouter

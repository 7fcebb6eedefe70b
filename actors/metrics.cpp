#include "actors/metrics.hpp"

#include <algorithm>

namespace feedrouter {

namespace {

template <std::size_t N>
constexpr bool strictly_increasing(const std::array<std::int64_t, N>& bounds) {
  for (std::size_t i = 1; i < N; ++i)
    if (bounds[i] <= bounds[i - 1])
      return false;
  return bounds[0] > 0;
}

static_assert(strictly_increasing(metrics::fire_bounds_us));
static_assert(strictly_increasing(metrics::commit_bounds_us));

constexpr std::int64_t us_per_second = 1'000'000;
constexpr int fraction_digits = 6;

/// The `reason` label of each failed fire verdict, indexed by fire_verdict; fired has none.
constexpr std::array<std::string_view, 5> failure_reasons = {"", "unavailable", "refused", "too_large", "rejected"};
static_assert(static_cast<std::size_t>(fire_verdict::retry) == 1 && static_cast<std::size_t>(fire_verdict::dead) == 4);

constexpr std::array<std::string_view, 3> event_metric_names = {
  "feedrouter_events_accepted_total", "feedrouter_events_fired_total", "feedrouter_events_dead_lettered_total"};
constexpr std::array<std::string_view, 3> event_metric_help = {
  "Events taken into a registration's care (from its source, its schedule or a webhook request), by feed kind.",
  "Events the controller accepted (a 2xx answer to their fire), by feed kind.",
  "Events moved to dead letters, by feed kind."};
constexpr std::array<std::string_view, 4> drop_reasons = {"filtered", "overloaded", "inactive", "duplicate"};

template <class T>
auto load(const std::atomic<T>& x) {
  return x.load(std::memory_order_relaxed);
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help) += '\n';
  out.append("# TYPE ").append(name).append(" ").append(type) += '\n';
}

template <class T>
void sample(std::string& out, std::string_view name, std::string_view labels, T value) {
  out.append(name);
  if (!labels.empty())
    out.append("{").append(labels).append("}");
  out.append(" ").append(std::to_string(value)) += '\n';
}

/// Returns `feed="KIND"`; label values come from fixed lists, so they never need escaping.
std::string feed_label(std::size_t feed) {
  return "feed=\"" + std::string{metric_feed_kinds[feed]} + '"';
}

template <class Counters>
void per_feed_samples(std::string& out, std::string_view name, const Counters& counters) {
  for (std::size_t feed = 0; feed < counters.size(); ++feed)
    sample(out, name, feed_label(feed), load(counters[feed]));
}

} // namespace

void append_seconds(std::string& out, std::int64_t us) {
  out += std::to_string(us / us_per_second);
  auto fraction = us % us_per_second;
  if (fraction == 0)
    return;
  auto digits = std::to_string(fraction);
  digits.insert(0, static_cast<std::size_t>(fraction_digits) - digits.size(), '0');
  digits.erase(digits.find_last_not_of('0') + 1);
  out.append(".").append(digits);
}

std::size_t metrics::feed_index(std::string_view feed) {
  auto last = metric_feed_kinds.size() - 1;
  auto found = std::find(metric_feed_kinds.begin(), metric_feed_kinds.begin() + last, feed);
  return static_cast<std::size_t>(found - metric_feed_kinds.begin());
}

void metrics::record_fire(fire_verdict verdict, std::chrono::microseconds took) {
  fires_[static_cast<std::size_t>(verdict)].fetch_add(1, std::memory_order_relaxed);
  fire_duration_.observe(took);
}

void metrics::count_events(event_outcome outcome, std::string_view feed, std::size_t n) {
  events_[feed_index(feed)][static_cast<std::size_t>(outcome)].fetch_add(n, std::memory_order_relaxed);
}

void metrics::count_dropped(drop_reason reason, std::string_view feed) {
  dropped_[feed_index(feed)][static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
}

void metrics::record_state_change(std::string_view feed, std::optional<registration_state> from,
                                  std::optional<registration_state> to) {
  auto& states = registrations_[feed_index(feed)];
  if (from)
    states[static_cast<std::size_t>(*from)].fetch_sub(1, std::memory_order_relaxed);
  if (to)
    states[static_cast<std::size_t>(*to)].fetch_add(1, std::memory_order_relaxed);
}

std::int64_t metrics::registrations() const {
  std::int64_t total = 0;
  for (const auto& states : registrations_)
    for (const auto& count : states)
      total += count.load(std::memory_order_relaxed);
  return total;
}

void metrics::count_auto_disable(std::string_view feed) {
  auto_disabled_[feed_index(feed)].fetch_add(1, std::memory_order_relaxed);
}

void metrics::record_source_report(std::string_view feed, bool was_failing, bool failing) {
  auto feed_at = feed_index(feed);
  if (failing)
    source_errors_[feed_at].fetch_add(1, std::memory_order_relaxed);
  else if (was_failing)
    source_reconnects_[feed_at].fetch_add(1, std::memory_order_relaxed);
}

void metrics::record_commit(bool ok, std::chrono::microseconds took) {
  commit_duration_.observe(took);
  if (!ok)
    commit_failures_.fetch_add(1, std::memory_order_relaxed);
}

std::string metrics::render() const {
  std::string out;
  header(out, "feedrouter_fires_total", "counter", "Fire attempts (each retry counts) by outcome: ok is a 2xx answer.");
  std::uint64_t failed = 0;
  for (std::size_t verdict = 1; verdict < fires_.size(); ++verdict)
    failed += load(fires_[verdict]);
  sample(out, "feedrouter_fires_total", "outcome=\"ok\"", load(fires_[static_cast<std::size_t>(fire_verdict::fired)]));
  sample(out, "feedrouter_fires_total", "outcome=\"failed\"", failed);
  header(out, "feedrouter_fire_failures_total", "counter",
         "Failed fire attempts by reason: unavailable (408, 409, 429, 5xx, timeout, connection error; retried), "
         "refused (400, 401, 403, 404; the registration is disabled), too_large (413), rejected (any other status).");
  for (std::size_t verdict = 1; verdict < fires_.size(); ++verdict)
    sample(out, "feedrouter_fire_failures_total", "reason=\"" + std::string{failure_reasons[verdict]} + '"',
           load(fires_[verdict]));
  header(out, "feedrouter_fire_duration_seconds", "histogram", "Time from sending a fire attempt to its answer.");
  fire_duration_.render(out, "feedrouter_fire_duration_seconds");
  header(out, "feedrouter_fires_in_flight", "gauge", "Fire requests on the wire.");
  sample(out, "feedrouter_fires_in_flight", "", fires_in_flight());
  for (std::size_t outcome = 0; outcome < outcome_count; ++outcome) {
    header(out, event_metric_names[outcome], "counter", event_metric_help[outcome]);
    for (std::size_t feed = 0; feed < feed_count; ++feed)
      sample(out, event_metric_names[outcome], feed_label(feed), load(events_[feed][outcome]));
  }
  header(out, "feedrouter_events_dropped_total", "counter",
         "Events not accepted, by feed kind and reason: filtered (a webhook event kind the registration does not "
         "take), overloaded (answered 429), inactive (the registration is paused or disabled; answered 503), duplicate "
         "(a delivery id taken before).");
  for (std::size_t feed = 0; feed < feed_count; ++feed)
    for (std::size_t reason = 0; reason < drop_count; ++reason)
      sample(out, "feedrouter_events_dropped_total",
             feed_label(feed) + ",reason=\"" + std::string{drop_reasons[reason]} + '"', load(dropped_[feed][reason]));
  header(out, "feedrouter_registrations", "gauge", "Registrations by feed kind and state.");
  for (std::size_t feed = 0; feed < feed_count; ++feed)
    for (auto state : {registration_state::active, registration_state::paused, registration_state::disabled})
      sample(out, "feedrouter_registrations",
             feed_label(feed) + ",state=\"" + std::string{to_string(state)} + '"',
             load(registrations_[feed][static_cast<std::size_t>(state)]));
  header(out, "feedrouter_registrations_auto_disabled_total", "counter",
         "Registrations the provider disabled (reason AUTO) because the controller or the source refused them, a "
         "child crashed too often, their trigger actor failed, or a start found their stored parameters invalid or "
         "their secrets unreadable, by feed kind; a schedule that ended is not counted.");
  per_feed_samples(out, "feedrouter_registrations_auto_disabled_total", auto_disabled_);
  header(out, "feedrouter_admin_actions_total", "counter",
         "Registrations operators disabled (reason ADMIN) or enabled through the admin routes, by action.");
  sample(out, "feedrouter_admin_actions_total", "action=\"disable\"",
         load(admin_actions_[static_cast<std::size_t>(admin_action::disable)]));
  sample(out, "feedrouter_admin_actions_total", "action=\"enable\"",
         load(admin_actions_[static_cast<std::size_t>(admin_action::enable)]));
  header(out, "feedrouter_source_errors_total", "counter",
         "Failures sources reported (a failed poll, a changes feed that broke or could not connect), by feed kind.");
  per_feed_samples(out, "feedrouter_source_errors_total", source_errors_);
  header(out, "feedrouter_source_reconnects_total", "counter",
         "Sources that worked again after failures (a changes feed reopened, a poll answered), by feed kind.");
  per_feed_samples(out, "feedrouter_source_reconnects_total", source_reconnects_);
  header(out, "feedrouter_store_commit_duration_seconds", "histogram",
         "Time one store transaction took (a group commit of every write queued meanwhile).");
  commit_duration_.render(out, "feedrouter_store_commit_duration_seconds");
  header(out, "feedrouter_store_commit_failures_total", "counter", "Store transactions that failed.");
  sample(out, "feedrouter_store_commit_failures_total", "", load(commit_failures_));
  header(out, "feedrouter_api_requests_total", "counter", "Requests to the control API.");
  sample(out, "feedrouter_api_requests_total", "", load(api_requests_));
  return out;
}

std::string metrics::render_ready(bool ready) {
  std::string out;
  header(out, "feedrouter_ready", "gauge", "1 while /ready answers 200, else 0.");
  sample(out, "feedrouter_ready", "", ready ? 1 : 0);
  return out;
}

} // namespace feedrouter

// Prints the /metrics exposition of a metrics object after recording a fire attempt and a store commit of each duration
// given in microseconds on the command line (the first one failed, the others successful), and one or a few of every
// other kind of event: the input of check_exposition.py.

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "actors/metrics.hpp"

int main(int argc, char** argv) {
  using namespace feedrouter;
  metrics stats;
  for (int i = 1; i < argc; ++i) {
    std::chrono::microseconds took{std::strtoll(argv[i], nullptr, 10)};
    stats.record_fire(i == 1 ? fire_verdict::retry : fire_verdict::fired, took);
    stats.record_commit(i != 1, took);
  }
  stats.count_events(event_outcome::accepted, "webhook", 3);
  stats.count_events(event_outcome::fired, "webhook", 2);
  stats.count_events(event_outcome::dead_lettered, "webhook");
  stats.count_dropped(drop_reason::filtered, "webhook");
  stats.record_state_change("alarm", std::nullopt, registration_state::active);
  stats.record_state_change("a-kind-not-listed", std::nullopt, registration_state::disabled);
  stats.count_auto_disable("poll");
  stats.record_source_report("changes", false, true);
  stats.record_source_report("changes", true, false);
  stats.record_api_request();
  std::cout << stats.render() << metrics::render_ready(true);
  return 0;
}

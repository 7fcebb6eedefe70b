#include <catch2/catch.hpp>

#include <string>

#include <caf/event_based_actor.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "metrics_sample.hpp"
#include "trigger_harness.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref hooked{"guest", "hooked"};
const trigger_ref sourced{"guest", "sourced"};

std::string event_body(int n) {
  return R"({"n":)" + std::to_string(n) + "}";
}

/// Spawns, as the registration's source, an actor that sends its parent each status the test hands it with
/// (source_status_atom, error), as a poll or changes source reports failures and recoveries.
source_spawner status_source(std::vector<caf::actor>& sources) {
  return [&sources](caf::local_actor* trigger, const source_args&) -> source_actor {
    auto parent = caf::actor_cast<caf::actor>(trigger);
    auto src = trigger->spawn<caf::linked>([parent](caf::event_based_actor* self) -> caf::behavior {
      return {
        [self, parent](source_status_atom, std::string& error) {
          self->send(parent, source_status_atom::value, std::move(error));
        },
        [](credit_atom, std::int64_t) {},
      };
    });
    sources.push_back(src);
    return caf::actor_cast<source_actor>(src);
  };
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "a trigger counts the events it accepts, fires and dead-letters, by feed kind",
                 "[trigger][metrics]") {
  auto t = start_webhook_trigger(*this, hooked);
  REQUIRE(post_event(*this, t.trigger, event_body(1)).status == 202);
  REQUIRE(post_event(*this, t.trigger, event_body(2)).status == 202);
  client->answer(0, 202, R"({"activationId":"a1"})");
  run();
  // 413 for a single event: that event alone goes to dead letters.
  client->answer(1, 413);
  run();
  CHECK(metric_sample(*stats, R"(feedrouter_events_accepted_total{feed="webhook"})") == 2);
  CHECK(metric_sample(*stats, R"(feedrouter_events_fired_total{feed="webhook"})") == 1);
  CHECK(metric_sample(*stats, R"(feedrouter_events_dead_lettered_total{feed="webhook"})") == 1);
  CHECK(metric_sample(*stats, R"(feedrouter_fire_failures_total{reason="too_large"})") == 1);
  CHECK(metric_sample(*stats, R"(feedrouter_events_accepted_total{feed="alarm"})") == 0);
  CHECK(metric_sample(*stats, R"(feedrouter_registrations{feed="webhook",state="active"})") == 1);
}

TEST_CASE_METHOD(actor_fixture, "with three fires in flight, a retry and a batch, each event is counted fired once, "
                                "when it settles", "[trigger][metrics]") {
  env->fire_window = 3;
  auto t = start_webhook_trigger(*this, hooked);
  for (int n = 1; n <= 3; ++n)
    REQUIRE(post_event(*this, t.trigger, event_body(n)).status == 202);
  REQUIRE(client->calls().size() == 3);
  // The first is retried; the other two are taken, but settle only behind it.
  client->answer(0, 503);
  client->answer(1, 202);
  client->answer(2, 202);
  run();
  CHECK(metric_sample(*stats, R"(feedrouter_events_fired_total{feed="webhook"})") == 0);
  advance(1s, 10ms); // the back-off: half of the first 500 ms ceiling
  REQUIRE(client->calls().size() == 4);
  client->answer(3, 202);
  run();
  CHECK(metric_sample(*stats, R"(feedrouter_events_accepted_total{feed="webhook"})") == 3);
  CHECK(metric_sample(*stats, R"(feedrouter_events_fired_total{feed="webhook"})") == 3);
  // Every attempt is counted as a fire: three taken, one failed.
  CHECK(metric_sample(*stats, R"(feedrouter_fires_total{outcome="ok"})") == 3);
  CHECK(metric_sample(*stats, R"(feedrouter_fires_total{outcome="failed"})") == 1);
}

TEST_CASE_METHOD(actor_fixture, "a batch the controller takes counts each of its events as fired",
                 "[trigger][metrics]") {
  client->answer_all(202);
  auto t = start_webhook_trigger(*this, hooked, R"({"batchSize": 3, "batchWindowMs": 100})");
  for (int n = 1; n <= 3; ++n)
    REQUIRE(post_event(*this, t.trigger, event_body(n)).status == 202);
  REQUIRE(client->calls().size() == 1);
  CHECK(metric_sample(*stats, R"(feedrouter_events_fired_total{feed="webhook"})") == 3);
  CHECK(metric_sample(*stats, R"(feedrouter_fires_total{outcome="ok"})") == 1);
}

TEST_CASE_METHOD(actor_fixture, "a webhook event that is filtered out, finds no room or an inactive registration is "
                                "counted as dropped with its reason", "[trigger][metrics]") {
  env->max_buffered_events = 1;
  auto t = start_webhook_trigger(*this, hooked, R"({"events": ["push"]})");
  auto ignored = post_event(*this, t.trigger, event_body(1), {{"X-GitHub-Event", "issues"}});
  CHECK(ignored.status == 202);
  REQUIRE(post_event(*this, t.trigger, event_body(2), {{"X-GitHub-Event", "push"}}).status == 202);
  CHECK(post_event(*this, t.trigger, event_body(3), {{"X-GitHub-Event", "push"}}).status == 429);
  call<trigger_snapshot>(t.trigger, pause_atom::value);
  CHECK(post_event(*this, t.trigger, event_body(4), {{"X-GitHub-Event", "push"}}).status == 503);
  CHECK(metric_sample(*stats, R"(feedrouter_events_dropped_total{feed="webhook",reason="filtered"})") == 1);
  CHECK(metric_sample(*stats, R"(feedrouter_events_dropped_total{feed="webhook",reason="overloaded"})") == 1);
  CHECK(metric_sample(*stats, R"(feedrouter_events_dropped_total{feed="webhook",reason="inactive"})") == 1);
  CHECK(metric_sample(*stats, R"(feedrouter_events_accepted_total{feed="webhook"})") == 1);
  CHECK(metric_sample(*stats, R"(feedrouter_registrations{feed="webhook",state="paused"})") == 1);
}

TEST_CASE_METHOD(actor_fixture, "a fire the controller refuses disables the registration and counts it as disabled "
                                "AUTO", "[trigger][metrics]") {
  auto t = start_webhook_trigger(*this, hooked);
  REQUIRE(post_event(*this, t.trigger, event_body(1)).status == 202);
  client->answer(0, 404);
  run();
  CHECK(snapshot(t.trigger).status.state == registration_state::disabled);
  CHECK(metric_sample(*stats, R"(feedrouter_registrations_auto_disabled_total{feed="webhook"})") == 1);
  CHECK(metric_sample(*stats, R"(feedrouter_fire_failures_total{reason="refused"})") == 1);
  CHECK(metric_sample(*stats, R"(feedrouter_registrations{feed="webhook",state="disabled"})") == 1);
  CHECK(metric_sample(*stats, R"(feedrouter_registrations{feed="webhook",state="active"})") == 0);
}

TEST_CASE_METHOD(actor_fixture, "a source's failures count as errors and its recovery as a reconnect, by feed kind",
                 "[trigger][metrics]") {
  std::vector<caf::actor> sources;
  env->spawn_source = status_source(sources);
  // An alarm registration serves as a registration with a source; the test source replaces the alarm.
  auto params_json = R"({"seconds": 3600})";
  auto t = start_trigger(*this, make_record(sourced, params_json, now()), alarm_config(params_json, now(), sourced));
  run();
  REQUIRE(sources.size() == 1);
  for (const auto* error : {"connect: Connection refused", "timeout", "", ""}) {
    caf::anon_send(sources[0], source_status_atom::value, std::string{error});
    run();
  }
  CHECK(metric_sample(*stats, R"(feedrouter_source_errors_total{feed="alarm"})") == 2);
  // Two failures in a row, then working again: one reconnect; a second "working" report is no reconnect.
  CHECK(metric_sample(*stats, R"(feedrouter_source_reconnects_total{feed="alarm"})") == 1);
}

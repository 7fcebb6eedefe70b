#include "source_fixture.hpp"

#include <cstdint>
#include <stdexcept>
#include <utility>

#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/atoms.hpp"
#include "actors/sources/changes.hpp"
#include "actors/sources/kafka.hpp"
#include "actors/sources/mqtt.hpp"
#include "actors/sources/poll.hpp"
#include "actors/sources/redis_stream.hpp"
#include "core/changes_spec.hpp"
#include "core/egress_policy.hpp"
#include "core/json.hpp"
#include "core/kafka_spec.hpp"
#include "core/mqtt_spec.hpp"
#include "core/poll_spec.hpp"
#include "core/redis_stream_spec.hpp"

namespace feedrouter::test {

namespace {

/// An items request the stand-in parent has not answered yet.
struct held_items {
  caf::typed_response_promise<commit_atom> promise;
  std::vector<std::string> bodies;
  std::string checkpoint;
};

void commit(parent_log& log, std::vector<std::string> bodies, std::string checkpoint) {
  log.committed.push_back(std::move(bodies));
  log.checkpoints.push_back(std::move(checkpoint));
}

/// Plays the trigger's side of the source protocols (poll and changes) and records what it gets. The test grants
/// credit through it, so that the source sees the credit come from its parent.
caf::behavior stand_in_parent(caf::event_based_actor* self, parent_log_ptr log,
                              std::function<caf::actor(caf::local_actor*)> start) {
  auto source = start(self);
  auto held = std::make_shared<std::vector<held_items>>();
  return {
    [self, log, held](items_atom, std::vector<std::string>& bodies,
                      std::string& checkpoint) -> caf::result<commit_atom> {
      if (log->refuse_items || bodies.size() > log->max_bodies) {
        ++log->refused;
        return caf::make_error(caf::sec::runtime_error, std::string{"too many events are waiting"});
      }
      if (log->hold_items) {
        auto promise = self->make_response_promise<commit_atom>();
        held->push_back({promise, std::move(bodies), std::move(checkpoint)});
        ++log->held;
        return promise;
      }
      commit(*log, std::move(bodies), std::move(checkpoint));
      return commit_atom::value;
    },
    [log, held](commit_atom) {
      auto waiting = std::move(*held);
      held->clear();
      log->held = 0;
      for (auto& items : waiting) {
        commit(*log, std::move(items.bodies), std::move(items.checkpoint));
        items.promise.deliver(commit_atom::value);
      }
    },
    [log](event_atom, std::string& body, std::string& checkpoint) {
      log->events.emplace_back(std::move(body), std::move(checkpoint));
    },
    [self, source](credit_atom, std::int64_t n) { self->send(source, credit_atom::value, n); },
    [log](source_status_atom, std::string& error) { log->statuses.push_back(std::move(error)); },
    [log](disable_atom, int status_code, std::string& message) {
      log->disables.emplace_back(status_code, std::move(message));
    },
  };
}

/// Returns the members of `params_json`; throws std::invalid_argument when it is not a JSON object.
json_members read_params(std::string_view params_json) {
  auto members = parse_json_object(params_json, "params");
  if (!members)
    throw std::invalid_argument("params: " + members.error().message);
  return std::move(*members);
}

} // namespace

std::vector<std::string> parent_log::bodies() const {
  std::vector<std::string> all;
  for (const auto& batch : committed)
    all.insert(all.end(), batch.begin(), batch.end());
  return all;
}

std::vector<std::string> parent_log::event_bodies() const {
  std::vector<std::string> all;
  for (const auto& event : events)
    all.push_back(event.first);
  return all;
}

std::vector<std::string> parent_log::event_checkpoints() const {
  std::vector<std::string> all;
  for (const auto& event : events)
    all.push_back(event.second);
  return all;
}

testing_config::testing_config() {
  set("scheduler.policy", caf::atom("testing"));
}

source_fixture::source_fixture()
  : sys(cfg),
    sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
    client(std::make_shared<scripted_http_client>()),
    kafka(std::make_shared<scripted_kafka_connector>()),
    mqtt(std::make_shared<scripted_mqtt_connector>()),
    redis(std::make_shared<scripted_redis_connector>()),
    log(std::make_shared<parent_log>()) {
  // Sources keep a timer armed for their next poll: do not wait for them at shutdown.
  sys.await_actors_before_shutdown(false);
}

source_fixture::~source_fixture() {
  for (const auto& parent : parents_)
    caf::anon_send_exit(parent, caf::exit_reason::user_shutdown);
  sched.run();
}

caf::actor source_fixture::spawn_poll(std::string_view params_json, std::string checkpoint, std::string fire_body) {
  return spawn_parent(params_json, std::move(checkpoint), std::move(fire_body), client);
}

caf::actor source_fixture::spawn_poll_without_client(std::string_view params_json) {
  return spawn_parent(params_json, {}, "{}", nullptr);
}

caf::actor source_fixture::spawn_parent(std::string_view params_json, std::string checkpoint, std::string fire_body,
                                        http_client_ptr with) {
  auto spec = parse_poll_spec(read_params(params_json));
  if (!spec)
    throw std::invalid_argument(spec.error().field + ": " + spec.error().message);
  return spawn_stand_in([spec = std::move(*spec), fire_body = std::move(fire_body),
                         checkpoint = std::move(checkpoint), with = std::move(with)](caf::local_actor* parent) {
    return caf::actor_cast<caf::actor>(spawn_poll_source(parent, spec, fire_body, checkpoint, with));
  });
}

caf::actor source_fixture::spawn_changes(std::string_view params_json, std::string checkpoint, std::string fire_body) {
  return spawn_changes_parent(params_json, std::move(checkpoint), std::move(fire_body), client);
}

caf::actor source_fixture::spawn_changes_without_client(std::string_view params_json) {
  return spawn_changes_parent(params_json, {}, "{}", nullptr);
}

caf::actor source_fixture::spawn_changes_parent(std::string_view params_json, std::string checkpoint,
                                                std::string fire_body, http_client_ptr with) {
  auto spec = parse_changes_spec(read_params(params_json));
  if (!spec)
    throw std::invalid_argument(spec.error().field + ": " + spec.error().message);
  return spawn_stand_in([spec = std::move(*spec), fire_body = std::move(fire_body),
                         checkpoint = std::move(checkpoint), with = std::move(with)](caf::local_actor* parent) {
    return caf::actor_cast<caf::actor>(spawn_changes_source(parent, spec, fire_body, checkpoint, with));
  });
}

caf::actor source_fixture::spawn_kafka(std::string_view params_json, std::string checkpoint) {
  const egress_policy loopback{{*parse_egress_rule("127.0.0.1", "rule")}, {}};
  auto spec = parse_kafka_spec(read_params(params_json), loopback);
  if (!spec)
    throw std::invalid_argument(spec.error().field + ": " + spec.error().message);
  return spawn_stand_in([spec = std::move(*spec), checkpoint = std::move(checkpoint),
                         connector = kafka](caf::local_actor* parent) {
    return caf::actor_cast<caf::actor>(spawn_kafka_source(parent, spec, checkpoint, connector));
  });
}

caf::actor source_fixture::spawn_mqtt(std::string_view params_json, std::string checkpoint) {
  auto spec = parse_mqtt_spec(read_params(params_json), "guest/t");
  if (!spec)
    throw std::invalid_argument(spec.error().field + ": " + spec.error().message);
  return spawn_stand_in([spec = std::move(*spec), checkpoint = std::move(checkpoint),
                         connector = mqtt](caf::local_actor* parent) {
    return caf::actor_cast<caf::actor>(spawn_mqtt_source(parent, spec, "{}", checkpoint, connector));
  });
}

void source_fixture::mqtt_deliver(mqtt_update update) {
  mqtt->connection().deliver(std::move(update));
  run();
}

caf::actor source_fixture::spawn_redis_stream(std::string_view params_json, std::string checkpoint,
                                              std::string fire_body) {
  const egress_policy loopback{{*parse_egress_rule("127.0.0.1", "rule")}, {}};
  auto spec = parse_redis_stream_spec(read_params(params_json), loopback);
  if (!spec)
    throw std::invalid_argument(spec.error().field + ": " + spec.error().message);
  return spawn_stand_in([spec = std::move(*spec), checkpoint = std::move(checkpoint), fire_body = std::move(fire_body),
                         connector = redis](caf::local_actor* parent) {
    return caf::actor_cast<caf::actor>(spawn_redis_stream_source(parent, spec, fire_body, checkpoint, connector));
  });
}

void source_fixture::wake_kafka() {
  kafka->consumer().wake();
  run();
}

caf::actor source_fixture::spawn_stand_in(std::function<caf::actor(caf::local_actor*)> start) {
  auto parent = sys.spawn(stand_in_parent, log, std::move(start));
  parents_.push_back(parent);
  run();
  return parent;
}

caf::actor source_fixture::newest_parent() const {
  if (parents_.empty())
    throw std::logic_error("no parent was spawned");
  return parents_.back();
}

void source_fixture::grant(std::int64_t n) {
  caf::anon_send(newest_parent(), credit_atom::value, n);
  run();
}

void source_fixture::release_items() {
  caf::anon_send(newest_parent(), commit_atom::value);
  run();
}

scripted_stream& source_fixture::stream() const {
  return client->last_stream();
}

void source_fixture::stream_head(int status, std::string body) {
  stream().head(status, std::move(body));
  run();
}

void source_fixture::stream_lines(std::vector<std::string> lines, bool ended) {
  stream().lines(std::move(lines), ended);
  run();
}

void source_fixture::stream_fail(std::string error, transport_failure kind) {
  stream().fail(std::move(error), kind);
  run();
}

void source_fixture::stop(const caf::actor& parent) {
  caf::anon_send_exit(parent, caf::exit_reason::user_shutdown);
  run();
}

void source_fixture::run() {
  sched.run();
}

void source_fixture::advance(caf::timespan d) {
  sched.advance_time(d);
  sched.run();
}

void source_fixture::respond(int status, std::string body, http_fields fields) {
  client->respond(status, std::move(body), std::move(fields));
  sched.run();
}

} // namespace feedrouter::test

#include "source_fixture.hpp"

#include <stdexcept>

#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>

#include "actors/atoms.hpp"
#include "actors/sources/poll.hpp"
#include "core/json.hpp"
#include "core/poll_spec.hpp"

namespace feedrouter::test {

namespace {

/// Plays the trigger's side of the poll source protocol and records what it gets.
caf::behavior stand_in_parent(caf::event_based_actor* self, parent_log_ptr log, poll_spec spec, std::string fire_body,
                              std::string checkpoint, http_client_ptr client) {
  spawn_poll_source(self, std::move(spec), std::move(fire_body), std::move(checkpoint), std::move(client));
  return {
    [log](items_atom, std::vector<std::string>& bodies, std::string& checkpoint) -> caf::result<commit_atom> {
      if (log->refuse_items || bodies.size() > log->max_bodies) {
        ++log->refused;
        return caf::make_error(caf::sec::runtime_error, std::string{"too many events are waiting"});
      }
      log->committed.push_back(std::move(bodies));
      log->checkpoints.push_back(std::move(checkpoint));
      return commit_atom::value;
    },
    [log](source_status_atom, std::string& error) { log->statuses.push_back(std::move(error)); },
    [log](disable_atom, int status_code, std::string& message) {
      log->disables.emplace_back(status_code, std::move(message));
    },
  };
}

} // namespace

std::vector<std::string> parent_log::bodies() const {
  std::vector<std::string> all;
  for (const auto& batch : committed)
    all.insert(all.end(), batch.begin(), batch.end());
  return all;
}

testing_config::testing_config() {
  set("scheduler.policy", caf::atom("testing"));
}

source_fixture::source_fixture()
  : sys(cfg),
    sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
    client(std::make_shared<scripted_http_client>()),
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
  auto members = parse_json_object(params_json, "params");
  if (!members)
    throw std::invalid_argument("params: " + members.error().message);
  auto spec = parse_poll_spec(*members);
  if (!spec)
    throw std::invalid_argument(spec.error().field + ": " + spec.error().message);
  auto parent = sys.spawn(stand_in_parent, log, std::move(*spec), std::move(fire_body), std::move(checkpoint),
                          std::move(with));
  parents_.push_back(parent);
  run();
  return parent;
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

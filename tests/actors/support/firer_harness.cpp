#include "firer_harness.hpp"

#include <caf/send.hpp>

#include "actors/atoms.hpp"
#include "actors/firer.hpp"

namespace feedrouter::test {

std::vector<fired_report> fired_reports(const parent_log& log) {
  std::vector<fired_report> result;
  for (auto i : log.find(fired_atom::value)) {
    const auto& answer = log.messages[i].get_as<fire_result>(1);
    result.push_back({answer.id, answer.outcome, log.received[i]});
  }
  return result;
}

caf::actor spawn_firer_under(actor_fixture& f, const parent_log_ptr& log, const trigger_ref& trigger) {
  f.spawn_parent(log, [env = trigger_env_ptr{f.env}, trigger](caf::event_based_actor* self) {
    auto listener = caf::actor_cast<fire_listener>(self);
    return caf::actor_cast<caf::actor>(spawn_firer(self, listener, env, trigger, owner_key, "webhook"));
  });
  return log->child;
}

void fire(const caf::actor& firer, std::uint64_t id, std::string body) {
  caf::anon_send(firer, fire_atom::value, fire_unit{id, std::move(body)});
}

} // namespace feedrouter::test

#include "firer_harness.hpp"

#include <caf/send.hpp>

#include "actors/atoms.hpp"
#include "actors/firer.hpp"

namespace feedrouter::test {

std::vector<fired_report> fired_reports(const parent_log& log) {
  std::vector<fired_report> result;
  for (auto i : log.find(fired_atom::value))
    result.push_back({log.messages[i].get_as<std::uint64_t>(1), log.messages[i].get_as<fire_report>(2),
                      log.received[i]});
  return result;
}

std::vector<backoff_report> backoff_reports(const parent_log& log) {
  std::vector<backoff_report> result;
  for (auto i : log.find(backoff_atom::value))
    result.push_back({log.messages[i].get_as<std::uint64_t>(1), log.messages[i].get_as<int>(2),
                      log.messages[i].get_as<std::int64_t>(3), log.received[i]});
  return result;
}

caf::actor spawn_firer_under(actor_fixture& f, const parent_log_ptr& log, const trigger_ref& trigger,
                             const retry_options& retries) {
  f.spawn_parent(log, [env = trigger_env_ptr{f.env}, trigger, retries](caf::event_based_actor* self) {
    return spawn_firer(self, env, trigger, owner_key, retries, "webhook");
  });
  return log->child;
}

void fire(const caf::actor& firer, std::uint64_t id, std::string body, sys_ms oldest_accepted) {
  fire_unit unit;
  unit.id = id;
  unit.body = std::move(body);
  unit.oldest_accepted = oldest_accepted;
  caf::anon_send(firer, fire_atom::value, std::move(unit));
}

} // namespace feedrouter::test

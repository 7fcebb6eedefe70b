#include "trigger_harness.hpp"

#include "actors/atoms.hpp"

namespace feedrouter::test {

trigger_harness start_trigger(actor_fixture& f, registration_record record, std::optional<feed_config> config,
                              std::optional<fencing_token> fence) {
  auto log = std::make_shared<parent_log>();
  f.spawn_parent(log, [env = trigger_env_ptr{f.env}, record, config, fence](caf::event_based_actor* self) {
    // The registry monitors its triggers (they are not linked to it): so does the stand-in.
    auto trigger = caf::actor_cast<caf::actor>(spawn_trigger(self, env, record, config, fence));
    self->monitor(trigger);
    return trigger;
  });
  return {log, log->child};
}

trigger_harness start_webhook_trigger(actor_fixture& f, const trigger_ref& trigger, std::string_view params_json) {
  auto record = make_webhook_record(trigger, "hook-1", params_json, f.now());
  auto config = webhook_config(record.params_json, f.now(), trigger);
  return start_trigger(f, std::move(record), std::move(config));
}

api_reply post_event(actor_fixture& f, const caf::actor& trigger, std::string body, http_fields fields) {
  auto cmd = hook_command("hook-1", std::move(body), test_secret, std::move(fields));
  return reply_of(f.call<api_result>(trigger, hook_atom::value, std::move(cmd.hook)));
}

std::string batch_of(const std::vector<std::string>& bodies) {
  std::string result = R"({"events":[)";
  for (std::size_t i = 0; i < bodies.size(); ++i)
    result += (i == 0 ? "" : ",") + bodies[i];
  return result + "]}";
}

std::vector<registration_status> stored_statuses(const store_journal& journal, const trigger_ref& trigger) {
  std::vector<registration_status> result;
  for (const auto& op : journal.ops_for(trigger))
    if (op.op == store_op::kind::put_status)
      result.push_back(op.record.status);
  return result;
}

sys_ms at(caf::timespan offset) {
  return test_epoch() + std::chrono::duration_cast<std::chrono::milliseconds>(offset);
}

std::vector<sys_ms> every(sys_ms first, caf::timespan period, std::size_t count) {
  std::vector<sys_ms> result;
  for (std::size_t i = 0; i < count; ++i)
    result.push_back(first + std::chrono::duration_cast<std::chrono::milliseconds>(period * static_cast<std::int64_t>(i)));
  return result;
}

} // namespace feedrouter::test

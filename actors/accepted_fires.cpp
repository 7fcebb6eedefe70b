// What a trigger does once OpenWhisk accepted fires, beyond counting them: an event feed's `maxTriggers` (an alarm
// counts its occurrences as they are taken, in actors/alarm_schedule.cpp), and deleteAfterFire of a one-shot alarm.

#include <string>

#include "actors/detail/trigger_state.hpp"
#include "core/log.hpp"

namespace feedrouter {

std::string max_triggers_reached(std::int64_t max_triggers) {
  return "Automatically disabled after reaching max triggers (maxTriggers: " + std::to_string(max_triggers) + ")";
}

void on_fires_accepted(trigger_pointer self, std::int64_t fired) {
  auto& st = self->state;
  if (!st.config)
    return;
  if (const auto& alarm = st.config->alarm) {
    if (alarm->schedule == alarm_spec::kind::once && alarm->delete_after_fire != alarm_spec::after_fire::keep
        && st.deletion.now == trigger_deletion::step::idle)
      begin_trigger_deletion(self);
    return;
  }
  auto& left = st.record.status.triggers_left;
  if (!left || st.record.status.state != registration_state::active)
    return;
  *left = std::max<std::int64_t>(*left - fired, 0);
  if (*left > 0)
    return;
  log(log_level::info, "disabling ", st.record.trigger.qualified(), ": its maxTriggers fires are done");
  disable_at_max_triggers(self, max_triggers_reached(st.config->max_triggers().value_or(0)));
}

} // namespace feedrouter

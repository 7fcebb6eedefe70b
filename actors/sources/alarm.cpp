#include "actors/sources/alarm.hpp"

#include <algorithm>
#include <chrono>

#include <caf/event_based_actor.hpp>
#include <caf/local_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/child_error.hpp"

namespace feedrouter {

namespace {

using std::chrono::milliseconds;

/// How late a tick may be and still count as on time; a later one (machine suspended, overload) skips the
/// occurrences in between instead of firing a burst of them.
constexpr milliseconds late_tolerance{1000};

struct alarm_source_state {
  caf::actor parent;
  alarm_spec spec;
  sys_ms anchor;
  std::function<sys_ms()> now;

  static inline const char* name = "alarm_source";
};

using alarm_pointer = caf::stateful_actor<alarm_source_state>*;

void arm(alarm_pointer self, sys_ms occurrence) {
  auto delay = std::max(milliseconds{0}, occurrence - self->state.now());
  self->delayed_send(self, delay, tick_atom::value, occurrence.time_since_epoch().count());
}

caf::behavior alarm_source_impl(alarm_pointer self, caf::actor parent, alarm_spec spec, sys_ms anchor,
                                std::optional<sys_ms> last_occurrence, std::function<sys_ms()> now) {
  report_exceptions_as_errors(self);
  auto& st = self->state;
  st.parent = std::move(parent);
  st.spec = std::move(spec);
  st.anchor = anchor;
  st.now = std::move(now);
  auto after = std::max(st.now(), last_occurrence.value_or(sys_ms{}));
  auto first = next_occurrence(st.spec, after, st.anchor);
  if (!first) {
    self->send(st.parent, ended_atom::value);
    self->quit();
    return {};
  }
  self->send(st.parent, next_atom::value, first->time_since_epoch().count());
  arm(self, *first);
  return {
    // A timer needs no credit: the trigger dead-letters occurrences it has no room for.
    [](credit_atom, std::int64_t) {},
    [self](tick_atom, std::int64_t occurrence_ms) {
      auto& st = self->state;
      auto occurrence = sys_ms{milliseconds{occurrence_ms}};
      auto now = st.now();
      // Timers run on the monotonic clock; if the wall clock lags behind it, wait for the rest.
      if (now < occurrence) {
        arm(self, occurrence);
        return;
      }
      auto next = next_occurrence(st.spec, std::max(occurrence, now - late_tolerance), st.anchor);
      self->send(st.parent, occur_atom::value, occurrence_ms,
                 next ? next->time_since_epoch().count() : std::int64_t{-1});
      if (!next) {
        self->send(st.parent, ended_atom::value);
        self->quit();
        return;
      }
      arm(self, *next);
    },
  };
}

} // namespace

caf::actor spawn_alarm_source(caf::local_actor* parent, alarm_spec spec, sys_ms anchor,
                              std::optional<sys_ms> last_occurrence, std::function<sys_ms()> now) {
  return parent->spawn<caf::linked>(alarm_source_impl, caf::actor_cast<caf::actor>(parent), std::move(spec), anchor,
                                    last_occurrence, std::move(now));
}

} // namespace feedrouter

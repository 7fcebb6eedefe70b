// Dead-letter replay of a trigger actor: letters go back to the pending events, in order, and are fired; a
// registration that cannot fire refuses, with nothing moved (docs/delivery.md, "Dead letters").

#include <algorithm>
#include <string>
#include <vector>

#include "actors/child_error.hpp"
#include "actors/detail/trigger_state.hpp"

namespace feedrouter {

namespace {

/// Dead letters one replay moves back at most; a larger backlog takes several replays. A replay moves no more than
/// the registration has room for, either.
constexpr std::size_t replay_limit = 10'000;

/// What a caller whose replay found no room is told to wait.
constexpr std::chrono::seconds replay_retry_after{1};

/// Returns why a registration cannot fire, for a replay it refuses.
std::string why_not_firing(const trigger_state& st) {
  const auto& status = st.record.status;
  if (!st.config)
    return "the registration cannot fire: " + status.reason.message;
  auto what = status.state == registration_state::paused ? std::string{"paused"} : std::string{"disabled"};
  auto reason = status.reason.message.empty() ? std::string{} : " (" + status.reason.message + ")";
  auto remedy = status.reason.kind == reason_kind::admin ? "only an administrator can enable it" : "resume it first";
  return "the registration is " + what + reason + " and cannot fire; " + remedy;
}

} // namespace

// Refused when the registration cannot fire: its letters would wait for a resume that may never come.
caf::result<api_result> replay_dead_letters(trigger_pointer self) {
  auto& st = self->state;
  if (!may_fire(st) && !fire_after_schedule_end(self))
    return failure(api_outcome::conflict, why_not_firing(st), "state");
  if (st.replaying)
    return failure(api_outcome::conflict, "a replay of this registration is already under way");
  auto room = std::min(replay_limit, st.delivery.settings().max_buffered - std::min(st.delivery.settings().max_buffered,
                                                                                    st.delivery.buffered()));
  if (room == 0) {
    auto full = failure(api_outcome::too_many, "too many events are waiting for the controller; retry later");
    full.retry_after = replay_retry_after;
    return full;
  }
  // The room is held while the letters are loaded and moved, so that events arriving meanwhile cannot take it.
  st.replaying = true;
  st.delivery.reserve(room);
  auto rp = self->make_response_promise<api_result>();
  self->request(st.env->store, caf::infinite, load_atom::value, st.record.trigger, room)
    .then(
      [self, rp, room](std::vector<dead_letter>& letters) mutable {
        auto& st = self->state;
        st.delivery.cancel_reservation(room - letters.size());
        std::vector<store_op> ops;
        std::vector<feed_event> events;
        auto now = st.env->now();
        for (auto& letter : letters) {
          auto erase = make_op(st, store_op::kind::erase_dead_letter);
          erase.letter.event.seq = letter.event.seq;
          ops.push_back(std::move(erase));
          auto event = st.delivery.new_event(std::move(letter.event.body), now, true);
          ops.push_back(put_event_op(st, event.event));
          events.push_back(std::move(event));
        }
        auto count = events.size();
        st.record.status.dead_letters -= static_cast<std::int64_t>(count);
        auto status = make_op(st, store_op::kind::put_status);
        status.record.status = st.record.status;
        ops.push_back(std::move(status));
        self->request(st.env->store, caf::infinite, write_atom::value, std::move(ops))
          .then(
            [self, rp, events = std::move(events)](commit_atom) mutable {
              self->state.replaying = false;
              auto count = events.size();
              carry_out(self, self->state.delivery.accept_reserved(std::move(events)));
              rp.deliver(success(api_outcome::accepted, replay_receipt{count}));
            },
            [self, rp, count](caf::error& err) mutable {
              self->state.replaying = false;
              self->state.delivery.cancel_reservation(count);
              self->state.record.status.dead_letters += static_cast<std::int64_t>(count);
              rp.deliver(failure(api_outcome::unavailable, "cannot replay dead letters: " + describe_child_error(err)));
            });
      },
      [self, rp, room](caf::error& err) mutable {
        self->state.replaying = false;
        self->state.delivery.cancel_reservation(room);
        rp.deliver(failure(api_outcome::unavailable, "cannot replay dead letters: " + describe_child_error(err)));
      });
  return rp;
}

} // namespace feedrouter

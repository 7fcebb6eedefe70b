// Webhook intake of a trigger actor: a webhook registration owns no connection, so its events arrive from the HTTP
// server through the registry (docs/architecture.md section 2), are checked here, and go to the store and through the
// delivery core at once; the sender is answered once its event is stored or fired, whichever comes first (section
// 5.1).

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include "actors/child_error.hpp"
#include "actors/detail/trigger_state.hpp"
#include "core/replay_window.hpp"
#include "core/webhook_delivery.hpp"
#include "core/webhook_signature.hpp"

namespace feedrouter {

namespace {

/// What a sender refused with 429 (the registration holds as many events as it may) is told to wait.
constexpr std::chrono::seconds full_retry_after{1};

/// Returns why a registration that is not active takes no events: its state and reason.
std::string why_inactive(const trigger_state& st) {
  auto state = std::string{to_string(st.record.status.state)};
  const auto& reason = st.record.status.reason.message;
  return "the registration is " + state + ": " + (reason.empty() ? state : reason);
}

/// The answer of a registration whose shard runs on another instance now (cluster mode); the control API sends the
/// event there.
api_result moved_away() {
  return failure(api_outcome::not_owner, "the registration runs on another instance now");
}

/// The answer to the sender of webhook event `seq` once it is stored or fired.
api_result accepted(std::uint64_t seq) {
  return success(api_outcome::accepted, hook_receipt{false, seq});
}

/// Returns the sender of webhook event `seq` still waiting for its answer, or nullptr.
unanswered_hook* find_unanswered(trigger_state& st, std::uint64_t seq) {
  if (!st.unanswered_hooks)
    return nullptr;
  auto& waiting = *st.unanswered_hooks;
  auto at = std::lower_bound(waiting.begin(), waiting.end(), seq,
                             [](const unanswered_hook& x, std::uint64_t y) { return x.seq < y; });
  if (at == waiting.end() || at->seq != seq || at->answered)
    return nullptr;
  return &*at;
}

/// Notes that the put of webhook event `seq` failed while its sender waits.
void mark_unstored(trigger_state& st, std::uint64_t seq) {
  if (auto* hook = find_unanswered(st, seq))
    hook->unstored = true;
}

/// Lets the answered senders at the front of the line go. Answers come in seq order on each path (commits in write
/// order, fires settle in order), so the answered ones gather at the front.
void drop_answered(trigger_state& st) {
  auto& waiting = *st.unanswered_hooks;
  while (!waiting.empty() && waiting.front().answered)
    waiting.pop_front();
}

/// Tells `hook`'s sender to send its event again (`why`): its delivery id is forgotten, so that the redelivery is
/// taken. The caller lets it leave the line (drop_answered).
void refuse_hook(trigger_state& st, unanswered_hook& hook, api_result why) {
  if (st.replays && !hook.delivery_id.empty())
    st.replays->forget(hook.delivery_id);
  hook.promise.deliver(std::move(why));
  hook.answered = true;
}

/// Answers the sender of webhook event `seq` with `result` unless it was answered already.
void answer(trigger_state& st, std::uint64_t seq, api_result result) {
  auto* hook = find_unanswered(st, seq);
  if (!hook)
    return;
  hook->promise.deliver(std::move(result));
  hook->answered = true;
  drop_answered(st);
}

/// Tells the sender of webhook event `seq`, unless answered already, to send it again (`why`).
void refuse(trigger_state& st, std::uint64_t seq, api_result why) {
  auto* hook = find_unanswered(st, seq);
  if (!hook)
    return;
  refuse_hook(st, *hook, std::move(why));
  drop_answered(st);
}

} // namespace

void seed_replay_window(trigger_state& st, std::vector<taken_delivery> deliveries) {
  if (deliveries.empty())
    return;
  st.replays = std::make_unique<replay_window>();
  for (const auto& delivery : deliveries)
    st.replays->admit(delivery.id);
}

caf::result<api_result> take_webhook(trigger_pointer self, webhook_delivery& delivery) {
  auto& st = self->state;
  if (st.fenced)
    return moved_away();
  if (!st.config)
    return failure(api_outcome::unavailable, "the registration is disabled: " + st.record.status.reason.message);
  if (!st.config->webhook)
    return failure(api_outcome::not_found, "no webhook registration has this id", "hookId");
  auto verdict = judge_webhook(*st.config->webhook, delivery, st.config->fire_body, st.env->now());
  if (verdict.what == webhook_verdict::kind::bad_signature)
    return failure(api_outcome::unauthorized, "missing or wrong " + verdict.header, verdict.header);
  // Answered whatever the state: GitHub pings a hook as it creates it, before the CREATE has its answer.
  if (verdict.what == webhook_verdict::kind::ping)
    return success(api_outcome::accepted, hook_receipt{true, 0, hook_skip::ping});
  if (verdict.what == webhook_verdict::kind::bad_timestamp)
    return failure(api_outcome::invalid,
                   verdict.header + ": must be seconds since the epoch within "
                     + std::to_string(standard_timestamp_tolerance.count()) + " seconds of the provider's clock",
                   verdict.header);
  if (verdict.what == webhook_verdict::kind::bad_delivery_id)
    return failure(api_outcome::invalid,
                   verdict.header + ": is missing or longer than " + std::to_string(max_delivery_id_length)
                     + " characters",
                   verdict.header);
  if (st.record.status.state != registration_state::active) {
    st.env->stats->count_dropped(drop_reason::inactive, st.record.feed);
    return failure(api_outcome::unavailable, why_inactive(st));
  }
  if (verdict.what == webhook_verdict::kind::ignore) {
    st.env->stats->count_dropped(drop_reason::filtered, st.record.feed);
    return success(api_outcome::accepted, hook_receipt{true, 0, hook_skip::filtered});
  }
  if (!st.delivery.has_room(1)) {
    st.env->stats->count_dropped(drop_reason::overloaded, st.record.feed);
    auto full = failure(api_outcome::too_many, "too many events are waiting for the controller; retry later");
    full.retry_after = full_retry_after;
    return full;
  }
  auto delivery_id = std::move(verdict.delivery_id);
  if (!delivery_id.empty()) {
    if (!st.replays)
      st.replays = std::make_unique<replay_window>();
    if (!st.replays->admit(delivery_id)) {
      st.env->stats->count_dropped(drop_reason::duplicate, st.record.feed);
      return success(api_outcome::accepted, hook_receipt{true, 0, hook_skip::duplicate});
    }
  }
  auto event = st.delivery.new_event(std::move(verdict.payload), st.env->now(), true);
  auto seq = event.event.seq;
  // The delivery id goes into the store with the event, in one transaction: the window outlives a restart.
  std::vector<store_op> ops{put_event_op(st, event.event)};
  if (!delivery_id.empty()) {
    auto taken = make_op(st, store_op::kind::put_delivery);
    taken.delivery = {seq, delivery_id};
    ops.push_back(std::move(taken));
  }
  auto rp = self->make_response_promise<api_result>();
  if (!st.unanswered_hooks)
    st.unanswered_hooks = std::make_unique<std::deque<unanswered_hook>>();
  st.unanswered_hooks->push_back({seq, rp, false, false, std::move(delivery_id)});
  // The put reaches the store before anything the core asks of it for this event (one sender, one mailbox): an
  // erase after the fire finds the event there, or still in the same batch, where the two cancel out. The put may
  // linger for that (store_watch::event_delay): the sender waits for it only while the fire has no answer yet.
  self->request(st.env->store, caf::infinite, write_atom::value, std::move(ops), linger_atom::value)
    .then([self, seq](commit_atom) { answer(self->state, seq, accepted(seq)); },
          [self, seq](caf::error& err) {
            auto& st = self->state;
            // The registration stopped: its events go to the shard's new owner, where the sender is sent (a fire on
            // the wire may reach the controller twice, as at a crash).
            if (stop_if_fenced(self, err)) {
              refuse(st, seq, moved_away());
              return;
            }
            // Not stored, but held: its fire answers the sender. Answering 503 now would have the sender send it
            // again while this one still fires: a duplicate without a crash (docs/architecture.md rule 5.5).
            mark_unstored(st, seq);
            if (st.record.status.state != registration_state::active)
              refuse_unstored_hooks(st);
          });
  st.env->stats->count_events(event_outcome::accepted, st.record.feed);
  carry_out(self, st.delivery.accept(std::move(event)));
  return rp;
}

void refuse_unstored_hooks(trigger_state& st) {
  if (!st.unanswered_hooks)
    return;
  auto why = failure(api_outcome::unavailable,
                     "cannot store the event, and the registration stopped firing: " + why_inactive(st));
  for (auto& hook : *st.unanswered_hooks)
    if (hook.unstored && !hook.answered)
      refuse_hook(st, hook, why);
  drop_answered(st);
}

void answer_fired_hooks(trigger_state& st, const delivery_actions& out) {
  if (!st.unanswered_hooks || st.unanswered_hooks->empty() || out.erase.empty())
    return;
  for (auto seq : out.erase) {
    auto dead = std::any_of(out.dead_letters.begin(), out.dead_letters.end(),
                            [seq](const dead_letter& letter) { return letter.event.seq == seq; });
    if (!dead)
      answer(st, seq, accepted(seq));
    else if (auto* hook = find_unanswered(st, seq); hook && hook->unstored)
      // Neither stored nor fired: the sender must send it again.
      refuse_hook(st, *hook, failure(api_outcome::unavailable, "cannot store the event, and its fire failed"));
    // Any other dead letter is acknowledged by its put's commit.
  }
  drop_answered(st);
}

} // namespace feedrouter

#include "core/delivery_core.hpp"

#include <algorithm>
#include <utility>

#include "core/json.hpp"

namespace feedrouter {

namespace {

std::int64_t as_signed(std::size_t n) {
  return static_cast<std::int64_t>(n);
}

} // namespace

std::string_view to_string(delivery_core::state x) {
  switch (x) {
    case delivery_core::state::stopped:
      return "stopped";
    case delivery_core::state::running:
      return "running";
    case delivery_core::state::backing_off:
      return "backing_off";
    case delivery_core::state::stopping:
      return "stopping";
  }
  return "stopped";
}

// -- construction --------------------------------------------------------------------

delivery_core::delivery_core(delivery_settings settings) : settings_(std::move(settings)) {
  // nop
}

void delivery_core::restore(std::vector<stored_event> pending, std::uint64_t last_seq) {
  for (auto& event : pending)
    events_.push_back(feed_event{std::move(event), true, {}});
  next_seq_ = std::max(next_seq_, last_seq + 1);
}

void delivery_core::configure(delivery_settings settings) {
  settings_ = std::move(settings);
}

// -- events in -------------------------------------------------------------------------

feed_event delivery_core::new_event(std::string body, sys_ms accepted, bool stored, std::string checkpoint) {
  return {stored_event{next_seq_++, std::move(body), accepted}, stored, std::move(checkpoint)};
}

bool delivery_core::has_room(std::size_t n) const noexcept {
  return buffered() + n <= settings_.max_buffered;
}

void delivery_core::reserve(std::size_t n) noexcept {
  reserved_ += n;
}

void delivery_core::cancel_reservation(std::size_t n) noexcept {
  reserved_ -= std::min(n, reserved_);
}

delivery_actions delivery_core::accept(feed_event event) {
  delivery_actions out;
  events_.push_back(std::move(event));
  pump(out);
  return out;
}

delivery_actions delivery_core::accept_reserved(std::vector<feed_event> events) {
  cancel_reservation(events.size());
  delivery_actions out;
  for (auto& event : events)
    events_.push_back(std::move(event));
  pump(out);
  return out;
}

delivery_actions delivery_core::accept_from_source(feed_event event) {
  // A source that sends beyond its credit is not trusted with more: the bound holds either way.
  credit_ = std::max<std::int64_t>(0, credit_ - 1);
  return accept(std::move(event));
}

delivery_actions delivery_core::reject(feed_event event, sys_ms now, std::string error) {
  delivery_actions out;
  if (event.stored)
    out.erase.push_back(event.event.seq);
  out.dead_letters.push_back(dead_letter{std::move(event.event), now, 0, std::move(error), 0});
  out.failed = 1;
  return out;
}

// -- the registration's state ---------------------------------------------------------------

delivery_actions delivery_core::start() {
  delivery_actions out;
  if (state_ == state::stopped || state_ == state::stopping) {
    state_ = state::running;
    update_backoff();
  }
  pump(out);
  grant(out);
  return out;
}

delivery_actions delivery_core::stop() {
  delivery_actions out;
  halt(out);
  return out;
}

delivery_actions delivery_core::source_started() {
  has_source_ = true;
  credit_ = 0;
  delivery_actions out;
  grant(out);
  return out;
}

void delivery_core::source_stopped() noexcept {
  has_source_ = false;
  credit_ = 0;
}

delivery_actions delivery_core::firer_lost() {
  delivery_actions out;
  firer_ready_ = false;
  for (auto& u : units_) {
    if (u.now != phase::on_wire)
      continue;
    // Its answer may still come; it is ignored (the fire id is forgotten) and the unit goes out again.
    u.now = phase::waiting;
    u.fire_id = 0;
  }
  on_wire_ = 0;
  if (state_ == state::stopping)
    finish_stop(out);
  return out;
}

delivery_actions delivery_core::firer_ready() {
  firer_ready_ = true;
  delivery_actions out;
  pump(out);
  grant(out);
  return out;
}

// -- answers and time ----------------------------------------------------------------------

delivery_actions delivery_core::on_outcome(std::uint64_t id, const fire_outcome& outcome, sys_ms now,
                                           std::uint64_t random) {
  delivery_actions out;
  auto index = find_unit(id, phase::on_wire);
  if (!index)
    return out;
  --on_wire_;
  auto& u = units_[*index];
  auto may_send = state_ == state::running || state_ == state::backing_off;
  switch (classify(outcome.status_code, outcome.status_code == 0)) {
    case fire_verdict::fired:
      u.now = phase::fired;
      u.retried = false;
      break;
    case fire_verdict::retry:
      if (may_send)
        retry_or_bury(*index, outcome, now, random, out);
      else
        take_back(*index);
      break;
    case fire_verdict::too_large:
      if (u.count > 1) {
        // Halve the batch until it fits; only a single event that is still too big is dead-lettered.
        split(*index);
        break;
      }
      bury(u, outcome, now);
      break;
    case fire_verdict::dead:
      bury(u, outcome, now);
      break;
    case fire_verdict::disable: {
      out.refusal = delivery_refusal{outcome.status_code, outcome.error, u.attempts};
      out.failed += 1;
      take_back(*index);
      halt(out);
      break;
    }
  }
  after_answer(out);
  return out;
}

delivery_actions delivery_core::on_timer(std::uint64_t id) {
  delivery_actions out;
  if (id == 0)
    return out;
  if (id == batch_timer_) {
    batch_timer_ = 0;
    batch_due_ = true;
    pump(out);
    return out;
  }
  auto index = find_unit(id, phase::retry_wait);
  if (!index)
    return out;
  units_[*index].now = phase::waiting;
  pump(out);
  return out;
}

// -- transitions ----------------------------------------------------------------------------

/// Stops sending: retries are called off, and the stop is finished at once unless fires are on the wire.
void delivery_core::halt(delivery_actions& out) {
  credit_ = 0;
  has_source_ = false;
  batch_timer_ = 0;
  batch_due_ = false;
  if (state_ == state::stopped)
    return;
  for (auto& u : units_)
    if (u.now == phase::waiting || u.now == phase::retry_wait)
      u = unit{u.count};
  // Events not stored are dropped only once nothing is on the wire: a start before that goes on with all of them,
  // and their source with them, so that no fire on the wire can store a position beyond events sent again.
  state_ = state::stopping;
  if (on_wire_ == 0)
    finish_stop(out);
}

/// Nothing is on the wire any more: the firer may go, and fires settled behind events dropped now settle.
void delivery_core::finish_stop(delivery_actions& out) {
  state_ = state::stopped;
  out.release_firer = true;
  out.dropped += drop_unstored();
  settle(out);
}

/// Sends what the window allows: units waiting first (split halves, retries, units taken back), then new units cut
/// from the queue. While backing off, only the retries go out.
void delivery_core::pump(delivery_actions& out) {
  auto backing_off = state_ == state::backing_off;
  if ((state_ != state::running && !backing_off) || !firer_ready_)
    return;
  for (std::size_t i = 0; i < units_.size() && on_wire_ < settings_.window; ++i)
    if (units_[i].now == phase::waiting && (!backing_off || units_[i].retried))
      send(i, out);
  if (backing_off)
    return;
  while (on_wire_ < settings_.window && in_units_ < events_.size()) {
    auto queued = events_.size() - in_units_;
    auto size = std::max<std::size_t>(settings_.batch_size, 1);
    if (size > 1 && queued < size && !batch_due_) {
      if (batch_timer_ == 0) {
        batch_timer_ = ++next_id_;
        out.timers.push_back(delivery_timer{batch_timer_, settings_.batch_window});
      }
      return;
    }
    cut_unit(out);
  }
}

/// Cuts the next unit from the queue and sends it. The window belonged to the batch that goes out now; a later
/// partial batch gets a window of its own.
void delivery_core::cut_unit(delivery_actions& out) {
  auto size = std::max<std::size_t>(settings_.batch_size, 1);
  auto count = fitting_events(in_units_, std::min(size, events_.size() - in_units_));
  units_.push_back(unit{count});
  in_units_ += count;
  const auto& first = events_[in_units_ - count];
  auto max_bytes = settings_.envelope.max_bytes;
  if (max_bytes > 0 && first.event.body.size() > max_bytes) {
    // Too large for any fire: given up as it arrives, and settled in its turn like any dead letter.
    bury(units_.back(),
         fire_outcome{0,
                      "the event's " + std::to_string(first.event.body.size()) + " bytes exceed the "
                        + std::to_string(max_bytes) + " bytes one fire may carry",
                      std::nullopt},
         first.event.accepted);
    // The batch's window, if it passed, still holds for the events behind it: nothing went out.
    settle(out);
    return;
  }
  batch_due_ = false;
  batch_timer_ = 0;
  send(units_.size() - 1, out);
}

void delivery_core::send(std::size_t index, delivery_actions& out) {
  auto& u = units_[index];
  u.now = phase::on_wire;
  u.fire_id = ++next_id_;
  ++u.attempts;
  ++on_wire_;
  out.fires.push_back(fire_unit{u.fire_id, body_of(index), u.attempts});
}

/// Applies the outcomes of the settled units at the front, in order.
void delivery_core::settle(delivery_actions& out) {
  while (!units_.empty() && (units_.front().now == phase::fired || units_.front().now == phase::dead)) {
    auto u = std::move(units_.front());
    units_.erase(units_.begin());
    auto dead = u.now == phase::dead;
    for (std::size_t i = 0; i < u.count; ++i) {
      auto& e = events_.front();
      if (e.stored)
        out.erase.push_back(e.event.seq);
      if (!e.checkpoint.empty())
        out.checkpoint = std::move(e.checkpoint);
      if (dead)
        out.dead_letters.push_back(dead_letter{std::move(e.event), u.dead_at, u.status_code, u.error, u.attempts});
      events_.pop_front();
    }
    in_units_ -= u.count;
    (dead ? out.failed : out.fired) += 1;
    if (!dead)
      out.fired_events += u.count;
  }
}

/// Grants the source what the bound allows while running: a slow or failing controller then throttles the source
/// instead of filling memory. Tops up in large steps, not one message per event.
void delivery_core::grant(delivery_actions& out) {
  if (state_ != state::running || !has_source_)
    return;
  auto limit = as_signed(settings_.max_buffered);
  auto room = limit - as_signed(buffered()) - credit_;
  if (room <= 0 || (credit_ > 0 && room < limit / 2))
    return;
  credit_ += room;
  out.credit += room;
}

void delivery_core::retry_or_bury(std::size_t index, const fire_outcome& outcome, sys_ms now, std::uint64_t random,
                                  delivery_actions& out) {
  auto& u = units_[index];
  // Events are held in acceptance order: the unit's first is its oldest.
  auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - events_[first_event_of(index)].event.accepted);
  auto delay = next_retry_delay(settings_.retries, u.attempts, age, outcome.retry_after, random);
  if (!delay) {
    bury(u, outcome, now);
    return;
  }
  u.now = phase::retry_wait;
  u.retried = true;
  u.fire_id = ++next_id_;
  out.timers.push_back(delivery_timer{u.fire_id, *delay});
}

void delivery_core::bury(unit& u, const fire_outcome& outcome, sys_ms now) {
  u.now = phase::dead;
  u.retried = false;
  u.status_code = outcome.status_code;
  u.error = outcome.error;
  u.dead_at = now;
}

void delivery_core::split(std::size_t index) {
  auto count = units_[index].count;
  units_[index] = unit{count / 2};
  units_.insert(units_.begin() + static_cast<std::ptrdiff_t>(index) + 1, unit{count - count / 2});
}

/// Puts a unit back as if it had never been sent: it goes out again, with fresh attempts, at the next start.
void delivery_core::take_back(std::size_t index) {
  units_[index] = unit{units_[index].count};
}

/// Drops the events that were not stored from the units that are not on the wire and from the queue. Their source
/// sends them again from its stored checkpoint, which therefore must not move past them: the events after the first
/// one dropped lose their checkpoint.
std::size_t delivery_core::drop_unstored() {
  lazy_fifo<feed_event> kept;
  std::vector<unit> kept_units;
  bool dropped = false;
  if (std::all_of(events_.begin(), events_.end(), [](const feed_event& e) { return e.stored; }))
    return 0;
  std::size_t next = 0;
  auto take = [&](bool may_drop) {
    auto& e = events_[next++];
    if (may_drop && !e.stored) {
      dropped = true;
      return false;
    }
    if (dropped)
      e.checkpoint.clear();
    kept.push_back(std::move(e));
    return true;
  };
  for (auto& u : units_) {
    auto may_drop = u.now == phase::waiting;
    std::size_t count = 0;
    for (std::size_t i = 0; i < u.count; ++i)
      count += take(may_drop) ? 1 : 0;
    u.count = count;
    if (count > 0 || !may_drop)
      kept_units.push_back(std::move(u));
  }
  std::size_t in_units = 0;
  for (const auto& u : kept_units)
    in_units += u.count;
  while (next < events_.size())
    take(true);
  auto count = events_.size() - kept.size();
  events_ = std::move(kept);
  units_ = std::move(kept_units);
  in_units_ = in_units;
  return count;
}

/// What follows every answer: settle what can be settled, finish a stop once nothing is on the wire, and go on.
void delivery_core::after_answer(delivery_actions& out) {
  if (state_ == state::stopping && on_wire_ == 0)
    finish_stop(out);
  else
    settle(out);
  update_backoff();
  pump(out);
  grant(out);
}

void delivery_core::update_backoff() noexcept {
  if (state_ != state::running && state_ != state::backing_off)
    return;
  auto retrying = std::any_of(units_.begin(), units_.end(), [](const unit& u) { return u.retried; });
  state_ = retrying ? state::backing_off : state::running;
}

// -- helpers ----------------------------------------------------------------------------------

std::optional<std::size_t> delivery_core::find_unit(std::uint64_t fire_id, phase in) const {
  for (std::size_t i = 0; i < units_.size(); ++i)
    if (units_[i].now == in && units_[i].fire_id == fire_id)
      return i;
  return std::nullopt;
}

std::size_t delivery_core::first_event_of(std::size_t index) const {
  std::size_t first = 0;
  for (std::size_t i = 0; i < index; ++i)
    first += units_[i].count;
  return first;
}

/// Returns how many of the `count` events from `first` on one fire carries within the envelope's byte bound: at
/// least one.
std::size_t delivery_core::fitting_events(std::size_t first, std::size_t count) const {
  auto max_bytes = settings_.envelope.max_bytes;
  if (max_bytes == 0)
    return count;
  std::size_t taken = 1;
  auto bytes = events_[first].event.body.size();
  while (taken < count) {
    bytes += 1 + events_[first + taken].event.body.size();
    if (bytes > max_bytes)
      break;
    ++taken;
  }
  return taken;
}

std::string delivery_core::body_of(std::size_t index) const {
  const auto& u = units_[index];
  const auto& envelope = settings_.envelope;
  auto first = first_event_of(index);
  if (settings_.batch_size <= 1 && u.count == 1 && !envelope.wrap_single)
    return events_[first].event.body;
  json_writer out;
  out.begin_object().key(envelope.key).begin_array();
  for (std::size_t i = first; i < first + u.count; ++i)
    out.raw(events_[i].event.body);
  out.end_array();
  for (const auto& [name, raw] : envelope.members)
    if (name != envelope.key)
      out.key(name).raw(raw);
  out.end_object();
  return out.take();
}

} // namespace feedrouter

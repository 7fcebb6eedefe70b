#include "core/delivery_core.hpp"

#include <algorithm>
#include <utility>

#include "core/json.hpp"

namespace feedrouter {

namespace {

std::int64_t as_signed(std::size_t n) {
  return static_cast<std::int64_t>(n);
}

/// Frees a string's memory, not only its contents.
void free_string(std::string& text) {
  std::string{}.swap(text);
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

void delivery_core::use_budget(byte_account account) {
  account_ = std::move(account);
}

// Restored while stopped: the events wait in the store until the core starts and loads them.
void delivery_core::restore(pending_span pending, std::uint64_t last_seq) {
  if (!pending.empty()) {
    // One spill: a count and the first seq, however many events and bytes wait.
    held_event h;
    h.e = feed_event{stored_event{pending.first_seq, {}, {}}, true, {}, nullptr};
    h.at = body_at::store;
    h.run = pending.count;
    h.spill = true;
    events_held_ += pending.count;
    events_.push_back(std::move(h));
  }
  next_seq_ = std::max(next_seq_, last_seq + 1);
}

void delivery_core::configure(delivery_settings settings) {
  settings_ = std::move(settings);
}

// -- events in -------------------------------------------------------------------------

feed_event delivery_core::new_event(std::string body, sys_ms accepted, bool stored, std::string checkpoint) {
  return {stored_event{next_seq_++, std::move(body), accepted}, stored, std::move(checkpoint), nullptr};
}

feed_event delivery_core::new_shared_event(std::shared_ptr<const std::string> body, sys_ms accepted) {
  return {stored_event{next_seq_++, {}, accepted}, false, {}, std::move(body)};
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
  hold(std::move(event), 0);
  pump(out);
  return out;
}

delivery_actions delivery_core::accept_reserved(std::vector<feed_event> events) {
  cancel_reservation(events.size());
  delivery_actions out;
  for (auto& event : events)
    hold(std::move(event), 0);
  pump(out);
  return out;
}

delivery_actions delivery_core::accept_from_source(feed_event event) {
  // Its credit reserved bytes for it: they pay for its body.
  std::size_t paid = 0;
  if (credit_ > 0) {
    paid = credit_bytes_ / static_cast<std::size_t>(credit_);
    credit_bytes_ -= paid;
  }
  // A source that sends beyond its credit is not trusted with more: the bound holds either way.
  credit_ = std::max<std::int64_t>(0, credit_ - 1);
  delivery_actions out;
  hold(std::move(event), paid);
  pump(out);
  return out;
}

delivery_actions delivery_core::reject(feed_event event, sys_ms now, std::string error) {
  delivery_actions out;
  if (event.stored)
    out.erase.push_back(event.event.seq);
  if (event.shared_body)
    event.event.body = *event.shared_body;
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
  return_credit_bytes();
  delivery_actions out;
  grant(out);
  return out;
}

void delivery_core::source_stopped() {
  has_source_ = false;
  credit_ = 0;
  return_credit_bytes();
}

delivery_actions delivery_core::firer_lost() {
  delivery_actions out;
  firer_ready_ = false;
  for (std::size_t i = 0; i < units_.size(); ++i) {
    auto& u = units_[i];
    if (u.now != phase::on_wire)
      continue;
    // Its answer may still come; it is ignored (the fire id is forgotten) and the unit goes out again.
    release_fire_bodies(i);
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
  // The fire's body is gone with its answer: what goes out again, or to dead letters, is read from the store.
  release_fire_bodies(*index);
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
  if (id == load_timer_) {
    load_timer_ = 0;
    settle(out);
    pump(out);
    return out;
  }
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

delivery_actions delivery_core::on_loaded(pending_page page) {
  delivery_actions out;
  if (!load_)
    return out;
  auto load = *load_;
  load_.reset();
  auto used = place_loaded(load, page);
  if (used < load.reserved)
    account_.give_back(load.reserved - used);
  else if (used > load.reserved)
    account_.force(used - load.reserved);
  settle(out);
  // Loaded for a stop that came meanwhile: what did not settle waits in the store again.
  if (state_ == state::stopped)
    evict(true);
  pump(out);
  grant(out);
  return out;
}

delivery_actions delivery_core::on_load_failed() {
  delivery_actions out;
  if (!load_)
    return out;
  auto load = *load_;
  load_.reset();
  for (auto& h : events_)
    if (h.at == body_at::loading)
      h.at = body_at::store;
  account_.give_back(load.reserved);
  load_timer_ = ++next_id_;
  out.timers.push_back(delivery_timer{load_timer_, load_retry_delay});
  return out;
}

delivery_actions delivery_core::on_budget() {
  wanted_budget_ = false;
  delivery_actions out;
  settle(out);
  pump(out);
  grant(out);
  // Woken, but wanting nothing now: its place in line would hold up those behind it.
  if (!wanted_budget_)
    account_.leave_line();
  return out;
}

std::size_t delivery_core::spilled() const noexcept {
  std::size_t count = 0;
  for (const auto& h : events_)
    if (h.spill)
      count += h.run;
  return count;
}

// -- transitions ----------------------------------------------------------------------------

/// Stops sending: retries are called off, and the stop is finished at once unless fires are on the wire.
void delivery_core::halt(delivery_actions& out) {
  credit_ = 0;
  return_credit_bytes();
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
  // A stopped registration may stay stopped for long: its bodies wait in the store, not in the budget.
  evict(true);
}

/// Sends what the window allows: units waiting first (split halves, retries, units taken back), then new units cut
/// from the queue. While backing off, only the retries go out.
void delivery_core::pump(delivery_actions& out) {
  auto backing_off = state_ == state::backing_off;
  if ((state_ != state::running && !backing_off) || !firer_ready_)
    return;
  for (std::size_t i = 0; i < units_.size() && on_wire_ < settings_.window; ++i) {
    if (units_[i].now != phase::waiting || (backing_off && !units_[i].retried))
      continue;
    // In order: nothing overtakes a unit whose bodies are on their way back.
    if (!bodies_ready(first_event_of(i), units_[i].count, out))
      return;
    send(i, out);
  }
  if (backing_off)
    return;
  while (on_wire_ < settings_.window && in_units_ < events_.size()) {
    auto queued = events_held_ - in_units_;
    auto size = std::max<std::size_t>(settings_.batch_size, 1);
    if (size > 1 && queued < size && !batch_due_) {
      if (batch_timer_ == 0) {
        batch_timer_ = ++next_id_;
        out.timers.push_back(delivery_timer{batch_timer_, settings_.batch_window});
      }
      break;
    }
    auto ready = queue_ready(std::min(size, queued), out);
    if (ready == 0)
      return;
    cut_unit(ready, out);
  }
  prefetch(out);
}

/// Cuts a unit of the next `count` queued events, or as many of them as one fire may carry, and sends it. The window
/// belonged to the batch that goes out now; a later partial batch gets a window of its own.
void delivery_core::cut_unit(std::size_t count, delivery_actions& out) {
  count = fitting_events(in_units_, count);
  units_.push_back(unit{count});
  in_units_ += count;
  const auto& first = events_[in_units_ - count];
  auto max_bytes = settings_.envelope.max_bytes;
  if (max_bytes > 0 && body_size(first) > max_bytes) {
    // Too large for any fire: given up as it arrives, and settled in its turn like any dead letter.
    bury(units_.back(),
         fire_outcome{0,
                      "the event's " + std::to_string(body_size(first)) + " bytes exceed the "
                        + std::to_string(max_bytes) + " bytes one fire may carry",
                      std::nullopt},
         first.e.event.accepted);
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
  out.fires.push_back(fire_unit{u.fire_id, take_fire_body(index), u.attempts});
}

/// Applies the outcomes of the settled units at the front, in order.
void delivery_core::settle(delivery_actions& out) {
  while (!units_.empty() && (units_.front().now == phase::fired || units_.front().now == phase::dead)) {
    auto dead = units_.front().now == phase::dead;
    // A dead letter keeps the event's body: read it back first if it is only in the store.
    if (dead && !bodies_ready(0, units_.front().count, out))
      return;
    auto u = std::move(units_.front());
    units_.erase(units_.begin());
    for (std::size_t i = 0; i < u.count; ++i) {
      auto& h = events_.front();
      release(h);
      auto& e = h.e;
      if (e.stored)
        out.erase.push_back(e.event.seq);
      if (!e.checkpoint.empty())
        out.checkpoint = std::move(e.checkpoint);
      if (dead) {
        if (e.shared_body)
          e.event.body = *e.shared_body;
        out.dead_letters.push_back(dead_letter{std::move(e.event), u.dead_at, u.status_code, u.error, u.attempts});
      }
      events_.pop_front();
      --events_held_;
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
  if (account_.limited()) {
    reserve_credit_bytes(out);
    return;
  }
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
  auto oldest = events_[first_event_of(index)].e.event.accepted;
  auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - oldest);
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
  lazy_fifo<held_event> kept;
  std::vector<unit> kept_units;
  bool dropped = false;
  if (std::all_of(events_.begin(), events_.end(), [](const held_event& h) { return h.e.stored; }))
    return 0;
  std::size_t next = 0;
  auto take = [&](bool may_drop) {
    auto& h = events_[next++];
    if (may_drop && !h.e.stored) {
      dropped = true;
      release(h);
      --events_held_;
      return false;
    }
    if (dropped)
      h.e.checkpoint.clear();
    kept.push_back(std::move(h));
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
  auto before = events_.size();
  while (next < events_.size())
    take(true);
  auto count = before - kept.size();
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

void delivery_core::update_backoff() {
  if (state_ != state::running && state_ != state::backing_off)
    return;
  auto retrying = std::any_of(units_.begin(), units_.end(), [](const unit& u) { return u.retried; });
  auto was = state_;
  state_ = retrying ? state::backing_off : state::running;
  // The queue cannot go out while the controller is retried, perhaps for an hour: its bodies wait in the store.
  if (state_ == state::backing_off && was != state::backing_off)
    evict(false);
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

std::size_t delivery_core::credit_estimate() const noexcept {
  return std::max(credit_event_bytes, largest_body_);
}

// -- bodies and the budget ----------------------------------------------------------------------

/// Puts an event at the end of the line. A stored event keeps its body only while the core runs and the budget has
/// room; otherwise it waits in the store, as part of the spill at the end of the line. An event that is not stored is
/// counted whatever the budget says: no store can give it back (`prepaid`: what its credit reserved for it).
void delivery_core::hold(feed_event event, std::size_t prepaid) {
  held_event h;
  h.bytes = event.shared_body ? 0 : event.event.body.size();
  largest_body_ = std::max(largest_body_, h.bytes);
  h.e = std::move(event);
  ++events_held_;
  if (!h.e.stored) {
    if (h.bytes > prepaid)
      account_.force(h.bytes - prepaid);
    else
      account_.give_back(prepaid - h.bytes);
    events_.push_back(std::move(h));
    return;
  }
  auto behind_spill = events_.size() > in_units_ && events_[events_.size() - 1].spill;
  auto may_hold = !account_.limited() || state_ == state::running;
  if (!behind_spill && may_hold && take_bytes(h.bytes, byte_account::wait::no)) {
    events_.push_back(std::move(h));
    return;
  }
  // Behind a spill an event waits in the store too, so that the line keeps its order.
  if (behind_spill) {
    ++events_[events_.size() - 1].run;
    return;
  }
  free_string(h.e.event.body);
  h.bytes = 0;
  h.at = body_at::store;
  h.spill = true;
  events_.push_back(std::move(h));
}

/// Returns whether the entries [first, first + count) of the units have their bodies; otherwise has the missing ones
/// loaded (when no load is under way and the budget allows; else the budget wakes the core).
bool delivery_core::bodies_ready(std::size_t first, std::size_t count, delivery_actions& out) {
  std::size_t missing = 0;
  std::size_t bytes = 0;
  std::uint64_t from = 0;
  auto loading = false;
  for (auto i = first; i < first + count; ++i) {
    const auto& h = events_[i];
    if (h.at == body_at::loading) {
      loading = true;
    } else if (h.at == body_at::store) {
      if (missing++ == 0)
        from = h.e.event.seq;
      bytes += h.bytes;
    }
  }
  if (missing == 0 && !loading)
    return true;
  if (loading || load_ || load_timer_ != 0)
    return false;
  if (!take_bytes(bytes, byte_account::wait::yes)) {
    // What the queue holds goes out after this unit: it cannot make room for it, the store can.
    if (!evict(false) || !take_bytes(bytes, byte_account::wait::yes))
      return false;
  }
  // A unit's stored events are consecutive among the registration's pending events: `missing` rows from `from`.
  for (auto i = first; i < first + count; ++i)
    if (events_[i].at == body_at::store)
      events_[i].at = body_at::loading;
  load_ = pending_load{false, from, bytes};
  out.load = load_request{from, missing, bytes};
  return false;
}

/// Returns how many of the next `count` queued events may go out as one unit now: those in memory, within the
/// registration's share of the budget (one event at least). A spill among them is loaded first, unless the budget has
/// no room for it: then the events before it go on their own.
std::size_t delivery_core::queue_ready(std::size_t count, delivery_actions& out) {
  auto share = account_.share();
  std::size_t ready = 0;
  std::size_t bytes = 0;
  for (auto i = in_units_; i < events_.size() && ready < count; ++i) {
    const auto& h = events_[i];
    if (h.spill) {
      load_spill(i, true, out);
      return load_ ? 0 : ready;
    }
    bytes += h.bytes;
    if (ready > 0 && bytes > share)
      break;
    ++ready;
  }
  return ready;
}

/// Has the first rows of the spill at `index` loaded: as many as fit what the budget gives now (at most
/// load_chunk_bytes, load_rows), or, when it is needed now (`must`), at least the next body, waiting in line for it.
void delivery_core::load_spill(std::size_t index, bool must, delivery_actions& out) {
  if (load_ || load_timer_ != 0)
    return;
  auto& s = events_[index];
  // The next body's size is known once a load stopped before it; until then any room is worth a try when the body is
  // needed now, and room for a body as large as any seen before when it is only read ahead.
  auto need = std::max<std::size_t>(next_load_bytes_, 1);
  if (!must)
    need = std::max(need, largest_body_);
  std::size_t reserved = 0;
  auto room = account_.available();
  if (room >= need) {
    auto want = std::min(room, std::max(need, load_chunk_bytes));
    if (take_bytes(want, byte_account::wait::no))
      reserved = want;
  }
  if (reserved == 0) {
    if (!must || !take_bytes(need, byte_account::wait::yes))
      return;
    reserved = need;
  }
  s.at = body_at::loading;
  load_ = pending_load{true, s.e.event.seq, reserved};
  out.load = load_request{s.e.event.seq, std::min(s.run, load_rows), reserved};
}

/// Reads ahead: while the core runs, the spill behind the last events in memory is loaded before it is needed, as far
/// as the budget has room without waiting.
void delivery_core::prefetch(delivery_actions& out) {
  if (state_ != state::running || load_)
    return;
  auto ahead = std::max<std::size_t>(settings_.batch_size, 1) * std::max<std::size_t>(settings_.window, 1);
  std::size_t in_memory = 0;
  for (auto i = in_units_; i < events_.size() && in_memory < ahead; ++i) {
    if (events_[i].spill) {
      load_spill(i, false, out);
      return;
    }
    ++in_memory;
  }
}

/// Places the rows of a load; returns the bytes of the bodies kept. Rows a stopped or backing-off core would not send
/// soon are not kept: the spill stays as it was.
std::size_t delivery_core::place_loaded(const pending_load& load, pending_page& page) {
  std::size_t used = 0;
  if (!load.spill) {
    std::size_t row = 0;
    for (auto& h : events_) {
      if (h.at != body_at::loading || h.spill)
        continue;
      // Rows and entries are both in seq order.
      while (row < page.events.size() && page.events[row].seq < h.e.event.seq)
        ++row;
      if (row < page.events.size() && page.events[row].seq == h.e.event.seq) {
        h.e.event.body = std::move(page.events[row].body);
        h.bytes = h.e.event.body.size();
        h.at = body_at::memory;
        used += h.bytes;
      } else {
        h.at = body_at::store;
      }
    }
    return used;
  }
  std::optional<std::size_t> index;
  for (auto i = in_units_; i < events_.size(); ++i)
    if (events_[i].spill && events_[i].e.event.seq == load.from_seq)
      index = i;
  if (!index)
    return 0;
  auto& s = events_[*index];
  s.at = body_at::store;
  if (state_ != state::running)
    return 0;
  next_load_bytes_ = page.next_bytes;
  std::vector<held_event> loaded;
  for (auto& event : page.events) {
    if (loaded.size() == s.run)
      break;
    if (event.seq < load.from_seq)
      continue;
    held_event h;
    h.bytes = event.body.size();
    largest_body_ = std::max(largest_body_, h.bytes);
    used += h.bytes;
    h.e.event = std::move(event);
    h.e.stored = true;
    loaded.push_back(std::move(h));
  }
  if (loaded.empty()) {
    // Nothing read and nothing too large: the store no longer holds these events, and there is nothing to fire.
    if (page.next_bytes == 0) {
      events_held_ -= s.run;
      events_.erase(*index);
    }
    return 0;
  }
  s.run -= loaded.size();
  if (s.run == 0)
    events_.erase(*index);
  else
    s.e.event.seq = loaded.back().e.event.seq + 1;
  events_.insert(*index, std::make_move_iterator(loaded.begin()), std::make_move_iterator(loaded.end()));
  return used;
}

bool delivery_core::take_bytes(std::size_t n, byte_account::wait w) {
  auto taken = account_.take(n, w);
  if (!taken && w == byte_account::wait::yes)
    wanted_budget_ = true;
  return taken;
}

/// The answer of the fire of unit `index` came, or will never come: the bodies moved into it are gone.
void delivery_core::release_fire_bodies(std::size_t index) {
  auto first = first_event_of(index);
  for (auto i = first; i < first + units_[index].count; ++i) {
    auto& h = events_[i];
    if (h.at == body_at::fire) {
      account_.give_back(h.bytes);
      h.at = body_at::store;
    }
  }
}

/// Gives back what an entry that leaves the line holds on the budget.
void delivery_core::release(held_event& h) {
  if (h.at == body_at::memory || h.at == body_at::fire || h.at == body_at::loading)
    account_.give_back(h.bytes);
  h.at = body_at::store;
}

/// Moves the bodies of the stored events that wait in memory to the store: those of waiting units too when
/// `units_too`, and the queue's, whose consecutive stored events become one spill each. Returns whether that gave
/// bytes back.
bool delivery_core::evict(bool units_too) {
  if (!account_.limited())
    return false;
  auto before = account_.held();
  if (units_too) {
    for (std::size_t i = 0; i < in_units_; ++i) {
      auto& h = events_[i];
      if (h.e.stored && h.at == body_at::memory) {
        account_.give_back(h.bytes);
        free_string(h.e.event.body);
        h.at = body_at::store;
      }
    }
  }
  lazy_fifo<held_event> rebuilt;
  for (std::size_t i = 0; i < events_.size(); ++i) {
    auto& h = events_[i];
    if (i < in_units_ || !h.e.stored) {
      rebuilt.push_back(std::move(h));
      continue;
    }
    if (h.at == body_at::memory)
      account_.give_back(h.bytes);
    if (rebuilt.size() > in_units_ && rebuilt[rebuilt.size() - 1].spill) {
      rebuilt[rebuilt.size() - 1].run += h.run;
      continue;
    }
    held_event s;
    s.e.event.seq = h.e.event.seq;
    s.e.event.accepted = h.e.event.accepted;
    s.e.stored = true;
    s.at = body_at::store;
    s.spill = true;
    s.run = h.run;
    rebuilt.push_back(std::move(s));
  }
  events_ = std::move(rebuilt);
  return account_.held() < before;
}

/// Returns how many of the `count` events from `first` on one fire carries within the envelope's byte bound: at
/// least one. The events are in memory (see queue_ready), so their sizes are known.
std::size_t delivery_core::fitting_events(std::size_t first, std::size_t count) const {
  auto max_bytes = settings_.envelope.max_bytes;
  if (max_bytes == 0)
    return count;
  std::size_t taken = 1;
  auto bytes = body_size(events_[first]);
  while (taken < count) {
    bytes += 1 + body_size(events_[first + taken]);
    if (bytes > max_bytes)
      break;
    ++taken;
  }
  return taken;
}

/// Returns the size of an entry's body, wherever the body is (0 for a spill, which stands for several).
std::size_t delivery_core::body_size(const held_event& h) noexcept {
  return h.e.shared_body ? h.e.shared_body->size() : h.bytes;
}

/// Returns the body of the fire of unit `index`: a single event's own body, or a batch in the settings' envelope.
/// With a budget, the bodies of stored events move into the fire (the store has them if they are needed again);
/// others are copied.
std::string delivery_core::take_fire_body(std::size_t index) {
  const auto& u = units_[index];
  const auto& envelope = settings_.envelope;
  auto first = first_event_of(index);
  auto moves = [this](const held_event& h) { return account_.limited() && h.e.stored; };
  if (settings_.batch_size <= 1 && u.count == 1 && !envelope.wrap_single) {
    auto& h = events_[first];
    if (!moves(h))
      return body_copy(h);
    h.at = body_at::fire;
    return std::exchange(h.e.event.body, std::string{});
  }
  json_writer out;
  out.begin_object().key(envelope.key).begin_array();
  for (auto i = first; i < first + u.count; ++i) {
    auto& h = events_[i];
    out.raw(h.e.shared_body ? *h.e.shared_body : h.e.event.body);
    if (moves(h)) {
      free_string(h.e.event.body);
      h.at = body_at::fire;
    }
  }
  out.end_array();
  for (const auto& [name, raw] : envelope.members)
    if (name != envelope.key)
      out.key(name).raw(raw);
  out.end_object();
  return out.take();
}

std::string delivery_core::body_copy(const held_event& h) {
  return h.e.shared_body ? *h.e.shared_body : h.e.event.body;
}

/// Grants a replayable source credit for the bytes the budget has room for, each credit reserving the size of the
/// largest event seen (at least credit_event_bytes), up to credit_bytes_limit; topped up in steps. With the budget
/// spent it gets none, and waits in line for one event's worth.
void delivery_core::reserve_credit_bytes(delivery_actions& out) {
  auto per = credit_estimate();
  auto cap = std::max<std::int64_t>(1, as_signed(credit_bytes_limit / per));
  if (credit_ > cap / 2)
    return;
  auto room = std::min(as_signed(settings_.max_buffered) - as_signed(buffered()) - credit_, cap - credit_);
  if (room <= 0)
    return;
  auto affordable = std::min(room, as_signed(account_.available() / per));
  if (affordable > 0) {
    if (!take_bytes(static_cast<std::size_t>(affordable) * per, byte_account::wait::no))
      return;
  } else {
    // Nothing left: a source that still has credit asks again once it used it; one without waits in line.
    if (credit_ > 0 || !take_bytes(per, byte_account::wait::yes))
      return;
    affordable = 1;
  }
  credit_bytes_ += static_cast<std::size_t>(affordable) * per;
  credit_ += affordable;
  out.credit += affordable;
}

void delivery_core::return_credit_bytes() {
  account_.give_back(credit_bytes_);
  credit_bytes_ = 0;
}

} // namespace feedrouter

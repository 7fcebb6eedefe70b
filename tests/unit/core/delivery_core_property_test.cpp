// Property tests of the delivery core: random sequences of accepts, outcomes of every class, timers, credit, stops and
// lost firers, checked after every step against the rules of docs/architecture.md section 5. Half of the runs draw on
// a small byte budget shared with another registration that takes and gives back bytes at random: bodies are then
// released to the store and loaded back (loads answered, failed or delayed at random), and the bytes held never
// exceed the budget.

#include "core/delivery_core.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "delivery_core_support.hpp"

using namespace feedrouter;
using namespace feedrouter::test;
using namespace std::chrono_literals;
using state = delivery_core::state;

namespace {

/// How the registration under test gets its events.
enum class feed_kind {
  stored,      ///< a webhook or a poll: each event is stored before it is accepted, within the buffer bound
  replayable,  ///< a changes feed: events on credit, not stored, each with its source position as checkpoint
  occurrences, ///< an alarm: events not stored, without a position, with a shared body; dead-lettered at once when the
               ///< buffer is full
};

/// Every status the controller may answer, each outcome class more than once.
constexpr int statuses[] = {200, 202, 204, 202, 200, 408, 409, 429, 500, 503, 0, 0,
                            400, 401, 403, 404, 413, 413, 410, 422, 302};

/// The byte budget of a world: how large it is and how large the events' bodies get.
struct budget_settings {
  std::size_t total = 0; ///< 0: no budget
  std::size_t max_pad = 0;
};

/// The world around one delivery core: a controller that answers fires at random, timers, a source, a store, and
/// the other registrations on the byte budget.
class delivery_world {
public:
  delivery_world(feed_kind kind, delivery_settings settings, budget_settings budget, std::uint64_t seed)
    : kind_(kind), settings_(settings), core_(settings), rng_(seed), max_pad_(budget.max_pad) {
    if (budget.total > 0) {
      budget_ = std::make_shared<byte_budget>(byte_budget::limits_for(budget.total));
      core_.use_budget(byte_account{budget_, [this] { core_woken_ = true; }});
      other_ = byte_account{budget_, [this] { other_woken_ = true; }};
    }
  }

  /// Runs `steps` random inputs, checking the invariants after each.
  void run(int steps) {
    apply(core_.start());
    if (kind_ == feed_kind::replayable)
      start_source();
    for (int step = 0; step < steps; ++step) {
      one_random_input();
      check_invariants();
    }
  }

  /// Lets the controller take everything and checks that every event was delivered or dead-lettered.
  void drain() {
    if (core_.current() == state::stopped || core_.current() == state::stopping)
      apply(core_.start());
    if (!firer_ready_) {
      firer_ready_ = true;
      apply(core_.firer_ready());
    }
    if (kind_ == feed_kind::replayable && !source_running_)
      start_source();
    while (!storing_.empty())
      finish_store_write(true);
    // The other registrations are done.
    other_.leave_line();
    other_.give_back(other_.held());
    for (int guard = 0; guard < 100'000 && !(core_.idle() && (kind_ != feed_kind::replayable || source_done()));
         ++guard) {
      if (load_)
        answer_load(false);
      else if (core_woken_)
        wake_core();
      else if (kind_ == feed_kind::replayable && source_credit_ > 0 && next_position_ <= supply_)
        emit_from_source();
      else if (!on_wire_.empty())
        answer_fire(on_wire_.begin()->first, 202);
      else if (!timers_.empty())
        fire_next_timer();
      else
        FAIL("the core holds events but neither sends them, loads them nor waits for a timer or the budget: "
             << describe());
      check_invariants();
    }
    REQUIRE(core_.idle());
    CHECK(core_.buffered() == 0);
    if (kind_ == feed_kind::stored)
      for (auto seq : accepted_)
        CHECK((fired_.count(seq) + dead_.count(seq)) == 1);
    if (kind_ == feed_kind::replayable)
      for (std::int64_t position = 1; position <= supply_; ++position)
        CHECK(done_positions_.count(position) == 1);
  }

  /// Returns how many events were read back from the store.
  std::size_t loaded() const noexcept {
    return loaded_;
  }

private:
  // -- inputs --------------------------------------------------------------------------

  void one_random_input() {
    if (budget_ && one_budget_input())
      return;
    auto pick = std::uniform_int_distribution<int>{0, 99}(rng_);
    if (pick < 30)
      offer_event();
    else if (pick < 60 && !on_wire_.empty())
      answer_random_fire();
    else if (pick < 75 && !timers_.empty())
      fire_next_timer();
    else if (pick < 80 && !storing_.empty())
      finish_store_write(false);
    else if (pick < 84)
      stop_or_start();
    else if (pick < 86)
      lose_or_restore_firer();
    else if (pick < 89 && kind_ == feed_kind::replayable && source_running_)
      restart_source();
    else if (pick < 91)
      apply(core_.start());
    else if (kind_ == feed_kind::replayable && source_credit_ > 0)
      emit_from_source();
  }

  void offer_event() {
    switch (kind_) {
      case feed_kind::stored: {
        // A webhook: 429 without room; otherwise room is reserved while the store writes the event.
        if (!core_.has_room(1))
          return;
        core_.reserve(1);
        auto event = core_.new_event(next_body(), now_, true);
        accepted_.push_back(event.event.seq);
        storing_[++tickets_] = {std::move(event)};
        return;
      }
      case feed_kind::replayable:
        if (source_credit_ > 0 && next_position_ <= supply_)
          emit_from_source();
        return;
      case feed_kind::occurrences: {
        // An alarm's occurrences share one body (here one per occurrence, to tell them apart): they cost no bytes.
        auto event = core_.new_shared_event(std::make_shared<const std::string>(next_body()), now_);
        if (core_.has_room(1))
          apply(core_.accept(std::move(event)));
        else
          apply(core_.reject(std::move(event), now_, "not fired: the buffer is full"));
        return;
      }
    }
  }

  void finish_store_write(bool succeed) {
    // The store actor commits in the order it was asked.
    auto i = storing_.begin();
    if (!succeed && std::uniform_int_distribution<int>{0, 9}(rng_) == 0) {
      // The write failed: the sender got 503 and the event was never accepted.
      core_.cancel_reservation(i->second.size());
      for (const auto& e : i->second)
        accepted_.erase(std::find(accepted_.begin(), accepted_.end(), e.event.seq));
    } else {
      for (const auto& e : i->second)
        store_[e.event.seq] = e.event;
      apply(core_.accept_reserved(std::move(i->second)));
    }
    storing_.erase(i);
  }

  // -- the store and the byte budget ---------------------------------------------------

  /// One input about the budget or a load; returns whether it made one.
  bool one_budget_input() {
    auto pick = std::uniform_int_distribution<int>{0, 99}(rng_);
    if (pick < 12 && load_) {
      answer_load(std::uniform_int_distribution<int>{0, 7}(rng_) == 0);
      return true;
    }
    if (pick < 20 && core_woken_) {
      wake_core();
      return true;
    }
    if (pick < 26) {
      use_other_registrations();
      return true;
    }
    return false;
  }

  /// The store reads what the core asked for, or fails.
  void answer_load(bool fail) {
    auto request = *load_;
    load_.reset();
    if (fail) {
      apply(core_.on_load_failed());
      return;
    }
    pending_page page;
    std::size_t bytes = 0;
    for (auto i = store_.lower_bound(request.from_seq); i != store_.end() && page.events.size() < request.max_rows;
         ++i) {
      if (bytes + i->second.body.size() > request.max_bytes) {
        page.next_bytes = i->second.body.size();
        break;
      }
      bytes += i->second.body.size();
      page.events.push_back(i->second);
    }
    loaded_ += page.events.size();
    apply(core_.on_loaded(std::move(page)));
  }

  void wake_core() {
    core_woken_ = false;
    apply(core_.on_budget());
  }

  /// The other registrations on the budget take bytes (waiting in line or not) or give theirs back.
  void use_other_registrations() {
    auto pick = std::uniform_int_distribution<int>{0, 3}(rng_);
    if (pick == 0 || other_woken_) {
      other_woken_ = false;
      auto n = std::uniform_int_distribution<std::size_t>{1, budget_->bounds().share}(rng_);
      other_.take(n, pick == 0 ? byte_account::wait::no : byte_account::wait::yes);
    } else if (pick == 1) {
      other_.leave_line();
    } else {
      other_.give_back(std::uniform_int_distribution<std::size_t>{0, other_.held()}(rng_));
    }
  }

  std::string next_body() {
    auto pad = max_pad_ == 0 ? 0 : std::uniform_int_distribution<std::size_t>{0, max_pad_}(rng_);
    auto body = body_of_event(++numbered_, pad);
    bodies_[numbered_] = body;
    return body;
  }

  void emit_from_source() {
    auto position = next_position_++;
    --source_credit_;
    source_accepted_position_ = position;
    auto pad = max_pad_ == 0 ? 0 : std::uniform_int_distribution<std::size_t>{0, max_pad_}(rng_);
    bodies_[position] = body_of_event(position, pad);
    apply(core_.accept_from_source(core_.new_event(bodies_[position], now_, false, "cp-" + std::to_string(position))));
  }

  void answer_random_fire() {
    auto i = on_wire_.begin();
    std::advance(i, std::uniform_int_distribution<std::size_t>{0, on_wire_.size() - 1}(rng_));
    auto status = statuses[std::uniform_int_distribution<std::size_t>{0, std::size(statuses) - 1}(rng_)];
    answer_fire(i->first, status);
  }

  void answer_fire(std::uint64_t id, int status) {
    auto events = on_wire_.at(id);
    on_wire_.erase(id);
    if (status >= 200 && status < 300)
      for (auto n : events)
        mark_delivered(n);
    auto retry_after = std::uniform_int_distribution<int>{0, 3}(rng_) == 0
                         ? std::optional<std::chrono::milliseconds>{std::chrono::milliseconds{
                             std::uniform_int_distribution<int>{0, 5000}(rng_)}}
                         : std::nullopt;
    apply(core_.on_outcome(id, answer(status, retry_after), now_, rng_()));
  }

  void fire_next_timer() {
    auto earliest = std::min_element(timers_.begin(), timers_.end(),
                                     [](const auto& a, const auto& b) { return a.second < b.second; });
    auto [id, due] = *earliest;
    timers_.erase(earliest);
    now_ = std::max(now_, due);
    apply(core_.on_timer(id));
  }

  void stop_or_start() {
    if (core_.current() == state::running || core_.current() == state::backing_off) {
      // The trigger releases its source with every stop.
      source_running_ = false;
      source_credit_ = 0;
      apply(core_.stop());
      return;
    }
    apply(core_.start());
    if (kind_ == feed_kind::replayable)
      start_source();
  }

  void lose_or_restore_firer() {
    if (firer_ready_) {
      firer_ready_ = false;
      apply(core_.firer_lost());
      // Answers of the lost firer's fires may still come, and must change nothing.
      for (const auto& [id, events] : on_wire_)
        lost_.push_back(id);
      on_wire_.clear();
      for (auto id : lost_)
        CHECK_FALSE(core_.on_outcome(id, answer(202), now_, rng_()).changes_status());
      lost_.clear();
    } else {
      firer_ready_ = true;
      apply(core_.firer_ready());
    }
  }

  void restart_source() {
    // A crashed source restarted under a running trigger goes on after the newest event it handed over.
    core_.source_stopped();
    source_credit_ = 0;
    source_running_ = false;
    start_source();
  }

  void start_source() {
    source_credit_ = 0;
    if (!source_running_) {
      source_running_ = true;
      if (!source_accepted_position_)
        next_position_ = stored_position_ + 1;
      else
        next_position_ = *source_accepted_position_ + 1;
    }
    apply(core_.source_started());
  }

  // -- what comes out ------------------------------------------------------------------

  void apply(const delivery_actions& out) {
    auto was = core_.current();
    for (const auto& f : out.fires) {
      INFO(describe());
      CHECK(was != state::stopped);
      auto events = events_in(f.body);
      REQUIRE_FALSE(events.empty());
      // Bodies released to the store come back whole.
      if (events.size() == 1 && settings_.batch_size == 1)
        CHECK(f.body == bodies_.at(events[0]));
      CHECK(on_wire_.count(f.id) == 0);
      on_wire_[f.id] = events;
      for (auto n : events) {
        // Order: every event is first sent after every event accepted before it was first sent.
        if (first_sent_.insert(n).second) {
          CHECK(n > last_first_sent_);
          last_first_sent_ = n;
        }
      }
    }
    for (const auto& t : out.timers)
      timers_[t.id] = now_ + t.delay;
    if (out.load) {
      // One load at a time, and only of what the store holds.
      CHECK_FALSE(load_.has_value());
      CHECK(out.load->max_rows > 0);
      load_ = out.load;
    }
    source_credit_ += out.credit;
    events_fired_ += out.fired_events;
    if (out.credit > 0)
      CHECK(source_running_);
    for (auto seq : out.erase) {
      CHECK(erased_.insert(seq).second);
      store_.erase(seq);
      settle_in_order(seq);
      if (!dead_in(out, seq))
        fired_.insert(seq);
    }
    for (const auto& letter : out.dead_letters) {
      CHECK(dead_.insert(letter.event.seq).second);
      // A dead letter keeps its body, also when it had to be read back from the store.
      auto n = events_in(letter.event.body).at(0);
      CHECK(letter.event.body == bodies_.at(n));
      if (kind_ == feed_kind::replayable)
        done_positions_.insert(n);
      // A rejected occurrence goes to dead letters without waiting its turn; every other one settles in order.
      if (kind_ == feed_kind::replayable)
        settle_in_order(letter.event.seq);
    }
    if (out.checkpoint) {
      auto position = std::stoll(out.checkpoint->substr(3));
      // The stored position never moves back, and only past events that are all delivered or dead-lettered.
      CHECK(position >= stored_position_);
      // (Positions up to the previous checkpoint were checked when it was stored, and stay done.)
      for (auto p = stored_position_ + 1; p <= position; ++p) {
        INFO("checkpoint " << position << " passes position " << p);
        CHECK(done_positions_.count(p) == 1);
      }
      stored_position_ = position;
    }
    if (out.release_firer)
      CHECK(core_.in_flight() == 0);
    if (out.refusal) {
      // The trigger disables the registration: its source is released.
      source_running_ = false;
      source_credit_ = 0;
    }
    // A source starts again after the newest event it handed over, unless events were dropped: then from the stored
    // checkpoint.
    if (out.dropped > 0) {
      CHECK_FALSE(source_running_); // the trigger released it at the stop
      source_accepted_position_.reset();
    }
  }

  static bool dead_in(const delivery_actions& out, std::uint64_t seq) {
    return std::any_of(out.dead_letters.begin(), out.dead_letters.end(),
                       [seq](const dead_letter& l) { return l.event.seq == seq; });
  }

  void settle_in_order(std::uint64_t seq) {
    CHECK(seq > last_settled_);
    last_settled_ = seq;
  }

  void mark_delivered(std::int64_t n) {
    if (kind_ == feed_kind::replayable)
      done_positions_.insert(n);
  }

  bool source_done() const {
    return next_position_ > supply_;
  }

  // -- invariants ----------------------------------------------------------------------

  void check_invariants() {
    INFO(describe());
    if (budget_) {
      // The budget: never more bytes held than it has, and the core's and the others' bytes are all of them.
      CHECK(budget_->held() <= budget_->bounds().total);
      CHECK(budget_->held() == core_.bytes_held() + other_.held());
      // A stopped core keeps its events' bodies in the store.
      if (core_.current() == state::stopped && !load_)
        CHECK(core_.bytes_held() == 0);
    }
    // Bounded memory: never more than max_buffered events held, credit included.
    CHECK(core_.buffered() <= settings_.max_buffered);
    if (kind_ == feed_kind::replayable)
      CHECK(core_.buffered() + static_cast<std::size_t>(std::max<std::int64_t>(0, core_.credit()))
            <= settings_.max_buffered);
    // The window.
    CHECK(core_.in_flight() <= settings_.window);
    CHECK(core_.in_flight() == on_wire_.size());
    if (core_.current() == state::stopped)
      CHECK(core_.in_flight() == 0);
    // Nothing lost: each stored event is fired, dead-lettered or held (queued, in a fire, or being stored).
    if (kind_ == feed_kind::stored) {
      std::size_t storing = 0;
      for (const auto& [ticket, events] : storing_)
        storing += events.size();
      auto settled = fired_.size() + dead_.size();
      CHECK(accepted_.size() == settled + core_.buffered());
      // The count of fired events the metrics take from the actions is exact: each event once, when it settles.
      CHECK(events_fired_ == fired_.size());
      CHECK(core_.buffered() >= storing);
    }
  }

  std::string describe() const {
    std::ostringstream out;
    out << "state " << to_string(core_.current()) << ", held " << core_.buffered() << ", on the wire "
        << core_.in_flight() << ", timers " << timers_.size() << ", credit " << core_.credit() << ", now "
        << (now_ - core_epoch).count() << " ms";
    if (budget_)
      out << ", bytes " << core_.bytes_held() << " + " << other_.held() << " of " << budget_->bounds().total
          << " (spilled " << core_.spilled() << ", load " << (load_ ? "pending" : "none") << ", in line "
          << core_.bytes_held() << ", woken " << core_woken_ << ")";
    return out.str();
  }

  // -- member variables ----------------------------------------------------------------

  feed_kind kind_;
  delivery_settings settings_;
  delivery_core core_;
  std::mt19937_64 rng_;
  sys_ms now_ = core_epoch;
  std::int64_t numbered_ = 0;
  std::map<std::uint64_t, std::vector<std::int64_t>> on_wire_;
  std::vector<std::uint64_t> lost_;
  std::map<std::uint64_t, sys_ms> timers_;
  bool firer_ready_ = true;
  // The store.
  std::map<std::uint64_t, std::vector<feed_event>> storing_;
  std::uint64_t tickets_ = 0;
  std::vector<std::uint64_t> accepted_;
  std::set<std::uint64_t> fired_, dead_, erased_;
  std::map<std::uint64_t, stored_event> store_; ///< the pending events the store holds
  std::optional<load_request> load_;            ///< the load the core asked for, not answered yet
  // The byte budget (null: none) and the other registrations on it.
  std::shared_ptr<byte_budget> budget_;
  byte_account other_;
  bool core_woken_ = false;
  bool other_woken_ = false;
  std::size_t max_pad_ = 0;
  std::map<std::int64_t, std::string> bodies_; ///< every event's body, by its number
  std::size_t loaded_ = 0;
  std::size_t events_fired_ = 0; ///< the sum of the actions' fired_events
  std::uint64_t last_settled_ = 0;
  // Order of first sends.
  std::set<std::int64_t> first_sent_;
  std::int64_t last_first_sent_ = 0;
  // The source.
  static constexpr std::int64_t supply_ = 300;
  bool source_running_ = false;
  std::int64_t source_credit_ = 0;
  std::int64_t next_position_ = 1;
  std::optional<std::int64_t> source_accepted_position_;
  std::int64_t stored_position_ = 0;
  std::set<std::int64_t> done_positions_;
};

delivery_settings random_settings(std::mt19937_64& rng) {
  auto s = default_delivery();
  s.window = std::uniform_int_distribution<std::size_t>{1, 4}(rng);
  s.batch_size = std::uniform_int_distribution<int>{0, 2}(rng) == 0 ? 3 : 1;
  s.batch_window = 100ms;
  s.max_buffered = std::uniform_int_distribution<std::size_t>{1, 12}(rng);
  s.retries.max_attempts = std::uniform_int_distribution<int>{1, 5}(rng);
  s.retries.max_age = std::chrono::milliseconds{std::uniform_int_distribution<int>{1'000, 120'000}(rng)};
  return s;
}

/// Half of the runs: a budget of 2 to 16 KiB and bodies up to 600 bytes, so that events are released and loaded back
/// often, batches are cut at the registration's share, and single bodies may exceed the share.
budget_settings random_budget(std::mt19937_64& rng) {
  budget_settings b;
  if (std::uniform_int_distribution<int>{0, 1}(rng) == 0)
    return b;
  b.total = std::uniform_int_distribution<std::size_t>{2 * 1024, 16 * 1024}(rng);
  b.max_pad = 600;
  return b;
}

void run_worlds(feed_kind kind) {
  constexpr std::uint64_t runs = 300;
  constexpr int steps = 400;
  std::size_t loaded = 0;
  for (std::uint64_t seed = 1; seed <= runs; ++seed) {
    std::mt19937_64 rng{seed};
    auto settings = random_settings(rng);
    auto budget = random_budget(rng);
    INFO("seed " << seed << ", window " << settings.window << ", batch " << settings.batch_size << ", bound "
                 << settings.max_buffered << ", budget " << budget.total);
    delivery_world world{kind, settings, budget, seed};
    world.run(steps);
    world.drain();
    loaded += world.loaded();
  }
  // The budget's paths ran: stored events were released to the store and read back.
  if (kind == feed_kind::stored)
    CHECK(loaded > 0);
}

} // namespace

TEST_CASE("stored events are never lost, settle in order and stay within the bound, whatever the controller says",
          "[delivery_core][property]") {
  run_worlds(feed_kind::stored);
}

TEST_CASE("a replayable source's checkpoint moves only past delivered events and every position is delivered",
          "[delivery_core][property]") {
  run_worlds(feed_kind::replayable);
}

TEST_CASE("alarm occurrences are fired or dead-lettered within the bound, first sent in order",
          "[delivery_core][property]") {
  run_worlds(feed_kind::occurrences);
}

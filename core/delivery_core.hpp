#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/byte_budget.hpp"
#include "core/delivery_spec.hpp"
#include "core/lazy_fifo.hpp"
#include "core/registration.hpp"
#include "core/retry_policy.hpp"

namespace feedrouter {

// -- what goes in ----------------------------------------------------------------

/// One event on its way through a registration's delivery: what to fire, and what finishing it means.
struct feed_event {
  stored_event event;
  bool stored = false;    ///< pending in the store: erased there once the event is done
  std::string checkpoint; ///< the source position to persist once this event and every one before it is done
  /// An alarm's body, shared by every occurrence of its registration (event.body is empty then): an occurrence holds
  /// no body of its own and costs the byte budget nothing.
  std::shared_ptr<const std::string> shared_body;
};

/// What one attempt of a fire got back from the controller.
struct fire_outcome {
  int status_code = 0; ///< the HTTP status; 0 when no response arrived (refused, reset, timed out)
  std::string error;   ///< the transport error, or "HTTP 503: <the start of the body>"; empty on 2xx
  std::optional<std::chrono::milliseconds> retry_after; ///< what a Retry-After header asked for
};

/// How a registration delivers: batching, pipelining, the memory bound and the retry schedule.
struct delivery_settings {
  std::size_t batch_size = 1;               ///< events per fire; above 1 a fire carries {"events": [...]}
  std::chrono::milliseconds batch_window{0}; ///< how long a partial batch waits for more events
  std::size_t window = 1;                   ///< fires in flight at most; 1 sends the next only after an answer
  /// Events held at most: queued (in memory or only in the store), in fires, and being stored.
  std::size_t max_buffered = 1000;
  retry_options retries;
  batch_envelope envelope; ///< how a fire carries several events, and how many bytes of them it may carry
};

// -- what comes out --------------------------------------------------------------

/// One fire for the firer: a single event's body, or a batch's {"events": [...]} (the settings' envelope); `id` is new
/// for every attempt.
struct fire_unit {
  std::uint64_t id = 0;
  std::string body;
  int attempt = 1; ///< which attempt of these events this fire is, from 1 (for the fire's log line)
};

/// A timer the core needs; `on_timer(id)` when it falls due. Timers the core no longer needs are ignored then.
struct delivery_timer {
  std::uint64_t id = 0;
  std::chrono::milliseconds delay{0};
};

/// Pending events whose bodies the core needs back from the store: those of `trigger` from `from_seq` on, in seq
/// order, at most `max_rows` of them and `max_bytes` of bodies; answered with on_loaded (or on_load_failed).
struct load_request {
  std::uint64_t from_seq = 0;
  std::size_t max_rows = 0;
  std::size_t max_bytes = 0;
};

/// The controller refused a fire in a way that retrying cannot fix (400, 401, 403, 404).
struct delivery_refusal {
  int status_code = 0;
  std::string error;
  int attempts = 0;
};

/// What the registration's actor must carry out after one input, in this order: commit the store changes together
/// with the status (one transaction), then hand the fires to the firer, arm the timers and grant the credit.
struct delivery_actions {
  // -- outcomes applied, oldest first ---------------------------------------------

  std::vector<std::uint64_t> erase;      ///< seqs of stored events that are done: erase them from the pending ones
  std::vector<dead_letter> dead_letters; ///< events that cannot be delivered: store them as dead letters
  std::optional<std::string> checkpoint; ///< every event up to this source position is done: persist it
  std::int64_t fired = 0;                ///< fires the controller took (any 2xx), now settled
  std::size_t fired_events = 0;          ///< the events those fires carried
  std::int64_t failed = 0;               ///< fires that ended without a 2xx: dead letters and refusals
  std::optional<delivery_refusal> refusal; ///< disable the registration; its events are kept for the resume
  /// Events that were not stored and were let go at a stop: their source must start again from the stored checkpoint.
  std::size_t dropped = 0;

  // -- what to do next ------------------------------------------------------------

  std::vector<fire_unit> fires;          ///< send each, in order
  std::optional<load_request> load;      ///< read these pending events back from the store
  std::vector<delivery_timer> timers;    ///< arm each
  std::int64_t credit = 0;               ///< the source may send this many more events
  bool release_firer = false;            ///< nothing is on the wire and nothing may be sent: the firer may go

  /// Returns whether the outcomes changed what the store holds (events, dead letters or the position).
  bool changes_store() const noexcept {
    return !erase.empty() || !dead_letters.empty() || checkpoint.has_value();
  }

  /// Returns whether the registration's status counters changed (fires, failures, dead letters, position).
  bool changes_status() const noexcept {
    return changes_store() || fired > 0 || failed > 0;
  }
};

// -- the core ----------------------------------------------------------------------

/// The delivery pipeline of one registration (docs/architecture.md section 5), without actors or I/O: it takes
/// accepted events, orders and batches them into fires, keeps up to `window` fires in flight, applies their outcomes in
/// sequence (retry with back-off, split on 413, dead letters, refusal), and grants its source credit within the
/// memory bounds. Every input returns the delivery_actions its owner (the trigger actor) carries out.
///
/// Events are held in one line in acceptance order. The front of the line is cut into units (one fire each); the rest
/// is the queue. A unit is waiting (cut, not sent: split halves, or taken back), on the wire, waiting for its retry,
/// or settled (fired or dead) but behind an unsettled one. Outcomes are applied only to the settled prefix, so the
/// checkpoint and the acknowledgements move past events that are all done, in order, however the answers of several
/// fires in flight arrive. With a window of 1 this is one fire at a time.
///
/// Bodies draw on the process-wide byte budget (`--max-buffered-bytes`, docs/delivery.md "Memory") through the
/// core's byte_account. A stored event that does not fit is kept in the line without its body: queued events beyond
/// the budget are one *spill* entry (a count and the first seq, no memory per event), and a stored event's body moves
/// into its fire when sent and is not kept after the answer. Before a unit is cut or sent again, or dead-lettered, its
/// bodies are read back from the store (a `load` action, one at a time, in order), as the budget allows; a refused
/// take waits in the budget's line and `on_budget` resumes. Events that are not stored cannot be given back: an
/// alarm's body is shared, and a replayable source gets credit only for bytes reserved for it.
/// `take_fire_body` is the one place bodies are read.
///
class delivery_core {
public:
  // -- member types ------------------------------------------------------------------

  /// Where the pipeline stands.
  enum class state {
    stopped,     ///< may not send (paused, disabled, not started); nothing on the wire; events kept
    running,     ///< sends as the window allows; the source gets credit
    backing_off, ///< a fire is being retried: nothing new is sent and the source gets no credit
    stopping,    ///< may not send; waits for the answers of the fires still on the wire
  };

  // -- construction ------------------------------------------------------------------

  explicit delivery_core(delivery_settings settings = {});

  /// Takes the events a previous run left pending in the store and the highest seq it used, before any other event:
  /// their bodies stay in the store and are read back in order once the core runs, as the budget allows.
  void restore(pending_span pending, std::uint64_t last_seq);

  /// Replaces the settings (UPDATE); units cut from now on follow them.
  void configure(delivery_settings settings);

  // -- events in ---------------------------------------------------------------------

  /// Draws on `account` for the bodies it holds from now on (before restore and the first event).
  void use_budget(byte_account account);

  /// Returns a new event with the next seq: `stored` when it is written to the store before it is accepted.
  feed_event new_event(std::string body, sys_ms accepted, bool stored, std::string checkpoint = {});

  /// Returns a new event with the next seq whose body is `body`, shared with other events (an alarm's occurrences).
  feed_event new_shared_event(std::shared_ptr<const std::string> body, sys_ms accepted);

  /// Returns whether `n` more events fit within max_buffered.
  bool has_room(std::size_t n) const noexcept;

  /// Holds room for `n` events whose store write is under way; accept_reserved or cancel_reservation ends it.
  void reserve(std::size_t n) noexcept;

  /// Gives back room reserved for `n` events whose store write failed.
  void cancel_reservation(std::size_t n) noexcept;

  /// Takes an event at the end of the queue.
  delivery_actions accept(feed_event event);

  /// Takes events whose room was reserved, at the end of the queue, in order.
  delivery_actions accept_reserved(std::vector<feed_event> events);

  /// Takes an event the source sent on its credit.
  delivery_actions accept_from_source(feed_event event);

  /// Dead-letters an event at once, without queueing it (an alarm occurrence that finds the buffer full).
  delivery_actions reject(feed_event event, sys_ms now, std::string error);

  // -- the registration's state --------------------------------------------------------

  /// The registration may fire: sends what it holds and grants credit to a running source.
  delivery_actions start();

  /// The registration may not fire: nothing more is sent and retries are called off (their events wait for the next
  /// start). Fires on the wire are awaited; once none is left, events that were not stored are dropped (their source
  /// sends them again from its checkpoint; an alarm occurrence is not fired late).
  delivery_actions stop();

  /// A source started (again): it has no credit yet; it gets what the bound allows while running.
  delivery_actions source_started();

  /// The source stopped: its credit is void.
  void source_stopped();

  /// The firer is gone (it crashed): the fires it held are taken back and go out again once `firer_ready`.
  delivery_actions firer_lost();

  /// A firer may be used again.
  delivery_actions firer_ready();

  // -- answers and time ----------------------------------------------------------------

  /// Applies the outcome of fire `id`; answers of fires the core no longer waits for are ignored. `now` dates the
  /// outcome and ages its events; `random` draws the back-off's jitter.
  delivery_actions on_outcome(std::uint64_t id, const fire_outcome& outcome, sys_ms now, std::uint64_t random);

  /// A timer armed earlier fell due.
  delivery_actions on_timer(std::uint64_t id);

  /// The store answered the last load: the pending events it read (matched by seq; others are ignored).
  delivery_actions on_loaded(pending_page page);

  /// The last load failed: its events stay in the store and the load is tried again after load_retry_delay.
  delivery_actions on_load_failed();

  /// The byte budget may have what the core waits for now.
  delivery_actions on_budget();

  // -- queries -------------------------------------------------------------------------

  state current() const noexcept {
    return state_;
  }

  /// Returns the events held: queued (in memory or only in the store), in units, and reserved.
  std::size_t buffered() const noexcept {
    return events_held_ + reserved_;
  }

  /// Returns the bytes of bodies this core holds on the budget: in memory, in fires on the wire, being loaded, and
  /// reserved for its source's credit.
  std::size_t bytes_held() const noexcept {
    return account_.held();
  }

  /// Returns the queued events whose bodies are only in the store.
  std::size_t spilled() const noexcept;

  /// Returns the fires on the wire.
  std::size_t in_flight() const noexcept {
    return on_wire_;
  }

  /// Returns the credit the source has not used yet.
  std::int64_t credit() const noexcept {
    return credit_;
  }

  /// Returns whether nothing is held and nothing is on the wire.
  bool idle() const noexcept {
    return events_.empty() && reserved_ == 0 && on_wire_ == 0;
  }

  /// How long a failed load waits before it is tried again.
  static constexpr std::chrono::milliseconds load_retry_delay{1000};

  /// Rows one load reads at most.
  static constexpr std::size_t load_rows = 256;

  /// Bytes one load of queued events reserves at most (more only for a larger single body).
  static constexpr std::size_t load_chunk_bytes = 1024 * 1024;

  /// The size a replayable source's events are assumed to have at least, for the bytes its credit reserves.
  static constexpr std::size_t credit_event_bytes = 1024;

  /// Bytes of credit a replayable source has reserved at most: its events in flight to the core.
  static constexpr std::size_t credit_bytes_limit = 64 * 1024;

  const delivery_settings& settings() const noexcept {
    return settings_;
  }

private:
  // -- member types ------------------------------------------------------------------

  enum class phase {
    waiting,    ///< cut, not sent
    on_wire,    ///< sent; its answer is awaited
    retry_wait, ///< failed; sent again when its timer falls due
    fired,      ///< the controller took it; settles once every unit before it did
    dead,       ///< goes to dead letters once every unit before it settled
  };

  /// Where an event's body is.
  enum class body_at : std::uint8_t {
    memory,  ///< held, and counted on the budget
    fire,    ///< moved into the fire on the wire (a stored event with a budget); counted until the answer
    store,   ///< only in the store; not counted
    loading, ///< on its way back from the store; counted
  };

  /// One entry of the line: an event, or a spill of several stored events whose bodies are only in the store.
  struct held_event {
    feed_event e;
    body_at at = body_at::memory;
    std::size_t bytes = 0; ///< the size of its own body (0 for a shared body); unknown (0) for a spill
    std::size_t run = 1;   ///< events it stands for: more than one only for a spill
    bool spill = false;    ///< queued stored events from e.event.seq on, `run` of them, none of them in memory
  };

  /// The load under way (one at a time).
  struct pending_load {
    bool spill = false;         ///< for the spill that starts at from_seq; otherwise for entries being loaded
    std::uint64_t from_seq = 0;
    std::size_t reserved = 0;   ///< bytes taken for it
  };

  /// One fire's worth of events at the front of the line.
  struct unit {
    /// A fresh unit of `n` events, never sent.
    explicit unit(std::size_t n) : count(n) {
      // nop
    }

    std::size_t count = 0;  ///< events of the line this unit covers, after those of the units before it
    phase now = phase::waiting;
    std::uint64_t fire_id = 0; ///< the attempt on the wire; also the id of its retry timer
    int attempts = 0;          ///< attempts made
    bool retried = false;      ///< an attempt failed and was retried: the pipeline is backing off
    int status_code = 0;       ///< dead: the last status
    std::string error;         ///< dead: the last error
    sys_ms dead_at{};          ///< dead: when it was given up
  };

  // -- transitions -----------------------------------------------------------------------

  void halt(delivery_actions& out);
  void finish_stop(delivery_actions& out);
  void pump(delivery_actions& out);
  void cut_unit(std::size_t count, delivery_actions& out);
  void send(std::size_t index, delivery_actions& out);
  void settle(delivery_actions& out);
  void grant(delivery_actions& out);
  void retry_or_bury(std::size_t index, const fire_outcome& outcome, sys_ms now, std::uint64_t random,
                     delivery_actions& out);
  static void bury(unit& u, const fire_outcome& outcome, sys_ms now);
  void split(std::size_t index);
  void take_back(std::size_t index);
  std::size_t drop_unstored();
  void after_answer(delivery_actions& out);
  void update_backoff();

  // -- bodies and the budget ------------------------------------------------------------

  void hold(feed_event event, std::size_t prepaid);
  bool bodies_ready(std::size_t first, std::size_t count, delivery_actions& out);
  std::size_t queue_ready(std::size_t count, delivery_actions& out);
  void load_spill(std::size_t index, bool must, delivery_actions& out);
  void prefetch(delivery_actions& out);
  std::size_t place_loaded(const pending_load& load, pending_page& page);
  bool take_bytes(std::size_t n, byte_account::wait w);
  void release_fire_bodies(std::size_t index);
  void release(held_event& h);
  bool evict(bool units_too);
  std::string take_fire_body(std::size_t index);
  static std::string body_copy(const held_event& h);
  void reserve_credit_bytes(delivery_actions& out);
  void return_credit_bytes();

  // -- helpers -----------------------------------------------------------------------------

  std::optional<std::size_t> find_unit(std::uint64_t fire_id, phase in) const;
  std::size_t first_event_of(std::size_t index) const;
  std::size_t credit_estimate() const noexcept;
  std::size_t fitting_events(std::size_t first, std::size_t count) const;
  static std::size_t body_size(const held_event& h) noexcept;

  // -- member variables --------------------------------------------------------------------

  delivery_settings settings_;
  state state_ = state::stopped;
  /// Every event held, in acceptance order: the units' first (one entry each), then the queue, where a spill entry
  /// stands for several.
  lazy_fifo<held_event> events_;
  std::size_t events_held_ = 0;  ///< events events_ stands for
  std::vector<unit> units_;      ///< the front of events_ cut into fires, in order
  std::size_t in_units_ = 0;     ///< entries covered by units_; the rest of events_ is the queue
  std::size_t on_wire_ = 0;
  std::size_t reserved_ = 0;
  std::int64_t credit_ = 0;
  bool has_source_ = false;
  bool firer_ready_ = true;
  std::uint64_t next_seq_ = 1;
  std::uint64_t next_id_ = 0;     ///< fire ids and timer ids, from one counter
  std::uint64_t batch_timer_ = 0; ///< the window timer of the partial batch at the queue's front; 0 when none
  bool batch_due_ = false;        ///< that window has passed
  byte_account account_;          ///< its bytes on the budget; without a budget nothing is bounded
  std::optional<pending_load> load_;
  std::uint64_t load_timer_ = 0;  ///< the retry timer of a failed load; 0 when none
  std::size_t next_load_bytes_ = 0; ///< the size of the spill's next body, when the last load stopped before it
  std::size_t largest_body_ = 0;  ///< the largest body this registration had, for what its credit reserves
  std::size_t credit_bytes_ = 0;  ///< bytes reserved for the source's unused credit
  bool wanted_budget_ = false;    ///< a take waited in line during the current input
};

/// Returns the name of `x` ("running", ...), for logs and test messages.
std::string_view to_string(delivery_core::state x);

} // namespace feedrouter

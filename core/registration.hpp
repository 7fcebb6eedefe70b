#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time_format.hpp"
#include "core/trigger_ref.hpp"

namespace feedrouter {

/// Where a registration is in its life.
enum class registration_state {
  active,   ///< its source runs and its trigger fires
  paused,   ///< stopped by its owner; position kept
  disabled, ///< stopped by the provider (or an administrator); see its reason
};

/// Who changed a registration's state last.
enum class reason_kind {
  none,
  automatic, ///< the provider: repeated crashes, a 4xx from the controller, a schedule that ended ("AUTO")
  admin,     ///< an operator ("ADMIN")
  user,      ///< the owner through the lifecycle API ("USER")
};

std::string_view to_string(registration_state x);
std::string_view to_string(reason_kind x);
std::optional<registration_state> parse_registration_state(std::string_view text);
std::optional<reason_kind> parse_reason_kind(std::string_view text);

/// Why a registration is in its state.
struct state_reason {
  reason_kind kind = reason_kind::none;
  int status_code = 0; ///< HTTP status that caused it, 0 when none
  std::string message;
};

/// The runtime part of a registration: what changes while it runs, persisted with each change.
struct registration_status {
  registration_state state = registration_state::active;
  state_reason reason;
  sys_ms date_changed{};
  std::int64_t fires = 0;    ///< fires the controller accepted (2xx)
  std::int64_t failures = 0; ///< fires that did not get a 2xx
  std::optional<sys_ms> last_fired;
  std::optional<std::int64_t> triggers_left; ///< alarms with maxTriggers: occurrences still to fire
  std::optional<sys_ms> last_occurrence;     ///< alarms: scheduled time of the last occurrence taken
  std::int64_t dead_letters = 0;             ///< events in dead letters now
  /// The source's position, in a form its feed kind defines (a CouchDB seq, a poll's seen ids and validators);
  /// empty until the source has one. Advanced only once the events before it are fired or dead-lettered.
  std::string checkpoint;
};

/// An event accepted for a registration and not yet fired or dead-lettered: stored before it is acknowledged to its
/// sender, so that a crash cannot lose it.
struct stored_event {
  std::uint64_t seq = 0; ///< increasing per registration, in acceptance order
  std::string body;      ///< the JSON payload to fire
  sys_ms accepted{};
};

/// Pending events read back from the store, oldest first, within a bound of rows and bytes (store::load_pending).
struct pending_page {
  std::vector<stored_event> events;
  /// The size of the body of the next event, when the byte bound stopped the read before it; 0 otherwise.
  std::size_t next_bytes = 0;
};

/// A registration's pending events as loading a registration reads them: where they start and how many there are, not
/// their bodies, which wait in the store until the delivery core reads them back in order, within the byte budget
/// (store::load_pending, docs/delivery.md "Memory"). So a start-up with a large backlog holds no more of it in memory
/// than the budget allows, not even for a moment.
struct pending_span {
  std::uint64_t first_seq = 0; ///< the seq of the oldest; 0 when there is none
  std::size_t count = 0;       ///< how many, from first_seq on (their seqs may have gaps)

  bool empty() const noexcept {
    return count == 0;
  }

  friend bool operator==(const pending_span& x, const pending_span& y) noexcept {
    return x.first_seq == y.first_seq && x.count == y.count;
  }
};

/// A webhook delivery a registration took: the seq of the event it brought and the id its sender gave it (a
/// `webhook`'s `deliveryHeader`, `X-GitHub-Delivery`, Standard Webhooks' `webhook-id`). Stored with the event, and kept
/// after the event is fired, so that the replay window of delivery ids outlives a restart.
struct taken_delivery {
  std::uint64_t seq = 0;
  std::string id;
};

/// An event that could not be delivered, and why.
struct dead_letter {
  stored_event event;
  sys_ms failed{};
  int status_code = 0; ///< the last HTTP status, 0 when no response arrived
  std::string error;
  std::int64_t attempts = 0;
};

/// Everything stored about one registration.
struct registration_record {
  trigger_ref trigger;
  std::string feed;        ///< feed kind, e.g. "alarm"
  std::string params_json; ///< the feed's parameters as a JSON object, as validated
  std::string auth_key;    ///< the owner's "uuid:key"; fires the trigger
  std::string auth_hash;   ///< hex SHA-256 of auth_key; every API call is checked against it
  sys_ms created{};
  registration_status status;
  /// Loaded from the store at start-up: the events accepted but not yet fired, without their bodies.
  pending_span pending;
  /// Loaded from the store at start-up: the highest seq among its pending events, dead letters and deliveries, 0 if
  /// none.
  std::uint64_t last_seq = 0;
  /// Loaded from the store at start-up: the latest webhook deliveries it took, oldest first (at most
  /// replay_window_capacity, core/replay_window.hpp), which seed its replay window.
  std::vector<taken_delivery> deliveries;
};

} // namespace feedrouter

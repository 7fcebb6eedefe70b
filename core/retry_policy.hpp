#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/time_format.hpp"

namespace feedrouter {

/// What a fire attempt's outcome means for the event (docs/architecture.md, section 5).
enum class fire_verdict {
  fired,     ///< 2xx: the event is delivered and may be acknowledged to its source
  retry,     ///< 408, 409, 429, 5xx, timeouts and connection errors: try again after a back-off
  disable,   ///< 400, 401, 403, 404: the registration is disabled, its source stops where it is
  too_large, ///< 413: this event alone goes to dead letters
  dead,      ///< any other status: retrying would not help, the event goes to dead letters
};

/// Returns the verdict on a fire attempt that ended with HTTP `status_code`, or with no response at all when
/// `transport_error` is set or `status_code` is 0 (connection refused, reset, timed out).
///
/// Besides the listed codes, every other 4xx (410, 422, ...) is `dead`, and so are 1xx and 3xx: the controller never
/// redirects a fire, so a redirect means the request went somewhere else and repeating it would change nothing.
/// Codes outside 100..599 are `dead` as well.
fire_verdict classify(int status_code, bool transport_error);

/// Tunes the back-off between fire attempts of one event.
struct retry_options {
  std::chrono::milliseconds first_delay{500};    ///< ceiling of the first back-off
  double factor = 2.0;                           ///< growth of the ceiling per attempt; below 1 counts as 1
  std::chrono::milliseconds max_delay{60'000};   ///< cap of the jittered back-off (not of Retry-After)
  int max_attempts = 10;                         ///< attempts, the first included, before the event is dead
  std::chrono::milliseconds max_age{3'600'000};  ///< an event may not be retried later than this after it arrived
};

/// Longest Retry-After taken from a response; larger values are clamped to it. RFC 9111 section 1.2.2 asks the same
/// of any delta-seconds too large to represent (2^31 seconds).
constexpr std::chrono::seconds retry_after_limit{2'147'483'648LL};

/// Returns the back-off before the next attempt of an event, or nullopt when it must go to dead letters instead.
///
/// `attempts_made` counts the attempts made so far (1 after the first failure). The delay is full jitter: uniform in
/// [0, min(max_delay, first_delay * factor^(attempts_made - 1))], drawn from `random`, a 64-bit random number the
/// caller supplies so the result is deterministic. A `retry_after` from the response raises the delay to at least its
/// value and is honoured even above `max_delay` (a server asking for ten minutes must not be hit every minute); only
/// `max_age` bounds it.
///
/// Returns nullopt when `attempts_made >= max_attempts`, or when the retry would happen later than `max_age` after the
/// event arrived, i.e. when `event_age + delay > max_age`.
std::optional<std::chrono::milliseconds> next_retry_delay(const retry_options& opts, int attempts_made,
                                                          std::chrono::milliseconds event_age,
                                                          std::optional<std::chrono::milliseconds> retry_after,
                                                          std::uint64_t random);

/// Returns how long a `Retry-After` header value asks to wait, measured from `now`, or nullopt when it is malformed.
///
/// Accepts delta-seconds ("120") and every HTTP-date form of RFC 9110 section 5.6.7: IMF-fixdate
/// ("Sun, 06 Nov 1994 08:49:37 GMT"), RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT", a two-digit year more than 50 years
/// ahead meaning the century before) and asctime ("Sun Nov  6 08:49:37 1994"). Surrounding spaces and tabs are
/// ignored. A date in the past yields 0; anything longer than `retry_after_limit` yields that limit. The day name is
/// checked for spelling, not against the date.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view header, sys_ms now);

} // namespace feedrouter

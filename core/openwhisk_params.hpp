#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time_format.hpp"

namespace feedrouter {

// The lenient forms in which OpenWhisk's alarms and cloudant feeds take their parameters, for the parameters feedrouter
// reads as OpenWhisk does (docs/migrating-from-openwhisk.md). Each takes one raw JSON value as a feed parameter holds
// it and bounds the work on it.

/// Returns whether the raw JSON value `raw` is what JavaScript calls falsy: false, 0, "", null (OpenWhisk's feeds test
/// `if (!params.minutes)`, so such a value counts as not given).
bool is_js_falsy(std::string_view raw);

/// Returns the integer `raw` holds in a form OpenWhisk's `minutes` check (`+m === parseInt(m)`) takes, without its
/// hexadecimal: an integral JSON number, or a string of decimal digits with blanks around it, an optional sign and an
/// optional fraction of zeros (" 5 ", "+5", "5.0"). Nullopt for anything else ("1e3", "0x10", "5.5", true).
std::optional<std::int64_t> read_openwhisk_int(std::string_view raw);

/// Returns the flag `raw` holds: true or false, or a string that reads "true" or "false" in any case with blanks
/// around it (OpenWhisk's `strict` takes `String(v).toLowerCase() === "true"`). Nullopt for anything else.
std::optional<bool> read_openwhisk_flag(std::string_view raw);

/// Returns the time `raw` holds as an OpenWhisk alarm date: milliseconds since the epoch as a JSON number, or a string
/// in one of the forms JavaScript's Date reads that feedrouter reads too: ISO-8601 with an offset (as parse_iso8601),
/// without one (read as UTC, which OpenWhisk's actions run in: "2030-12-25T12:30:00", "2030-12-25 12:30"), or
/// RFC 1123 ("Wed, 25 Dec 2030 12:30:00 GMT"). Nullopt for anything else, impossible dates (February 30, 24:00) and
/// times outside [earliest_time, latest_time] included.
std::optional<sys_ms> read_openwhisk_date(std::string_view raw);

/// Returns how a raw JSON value is quoted in an error message, as OpenWhisk writes it: a string's content, anything
/// else as JSON; cut to a length that keeps the message short.
std::string quoted_value(std::string_view raw);

} // namespace feedrouter

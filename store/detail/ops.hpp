#pragma once

// What every store needs to know about the changes it commits: their names for error messages and their ranges.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "store/store.hpp"

namespace feedrouter::detail {

/// The largest seq a store holds: both SQLite's INTEGER and PostgreSQL's BIGINT are signed 64-bit, stored_event::seq
/// is unsigned.
constexpr std::uint64_t max_seq = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

/// Returns the name of an operation kind, e.g. "put_event".
std::string_view op_name(store_op::kind x);

/// Returns the seq an operation on events or dead letters names, if it names one.
std::optional<std::uint64_t> op_seq(const store_op& op);

/// Returns "put_event guest/tick seq 7" for error messages.
std::string describe(const store_op& op);

/// Returns an error text when `op` names a seq beyond max_seq.
std::optional<std::string> check_seq_range(const store_op& op);

} // namespace feedrouter::detail

#pragma once

#include <cstddef>

namespace feedrouter {

/// The default of `--max-buffered-bytes` is this fraction of the memory the process may use...
inline constexpr std::size_t default_budget_divisor = 8;

/// ...but at least this much, so that a small machine still holds a few large events per registration...
inline constexpr std::size_t default_budget_floor = std::size_t{64} * 1024 * 1024;

/// ...and at most this much: beyond it, bodies are better read back from the store than kept.
inline constexpr std::size_t default_budget_cap = std::size_t{4} * 1024 * 1024 * 1024;

/// Returns the default byte budget for a process that may use `memory` bytes (0: unknown): an eighth of it, at least
/// default_budget_floor and at most default_budget_cap (docs/operations.md, "Sizing the memory budget").
std::size_t default_buffered_bytes(std::size_t memory) noexcept;

/// Returns the memory this process may use: the machine's physical memory, or its control group's limit when that is
/// lower (cgroup v2 memory.max, or v1 memory.limit_in_bytes); 0 when neither can be read.
std::size_t usable_memory();

} // namespace feedrouter

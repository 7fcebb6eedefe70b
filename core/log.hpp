#pragma once

#include <optional>
#include <sstream>
#include <string_view>

namespace feedrouter {

enum class log_level { error, warn, info, debug };

/// Sets the most verbose level that is written; the default is info.
void set_log_level(log_level level);

/// Returns whether messages at `level` are written; check it before building an expensive message.
bool log_enabled(log_level level);

/// Parses "error", "warn", "info" or "debug".
std::optional<log_level> parse_log_level(std::string_view text);

/// Writes one line "TIMESTAMP LEVEL message" to stderr with a single write, so lines from threads never interleave.
void write_log_line(log_level level, std::string_view message);

/// Writes the concatenation of `parts` when `level` is enabled.
template <class... Ts>
void log(log_level level, const Ts&... parts) {
  if (!log_enabled(level))
    return;
  std::ostringstream out;
  (out << ... << parts);
  write_log_line(level, out.str());
}

} // namespace feedrouter

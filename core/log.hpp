#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

namespace feedrouter {

enum class log_level { error, warn, info, debug };

/// How a log line is written (--log-format).
enum class log_format {
  text, ///< `TIMESTAMP LEVEL message key=value ...`
  json, ///< one JSON object per line: `{"ts": ..., "level": ..., "msg": ..., key: value, ...}`
};

/// Sets the most verbose level that is written; the default is info.
void set_log_level(log_level level);

/// Returns whether messages at `level` are written; check it before building an expensive message.
bool log_enabled(log_level level);

/// Parses "error", "warn", "info" or "debug".
std::optional<log_level> parse_log_level(std::string_view text);

/// Sets how lines are written; the default is text.
void set_log_format(log_format format);

/// Parses "text" or "json".
std::optional<log_format> parse_log_format(std::string_view text);

/// One structured field of a log line: a key the code names, and a string or integer value.
///
/// The key is written as it is (keys are constants of the code, in camelCase as the API's JSON); the value is escaped
/// for the format, so a tenant's text can neither break a line in two nor make the line invalid JSON or UTF-8. A
/// field holds views: it lives only as long as the call that writes it.
struct log_field {
  log_field(std::string_view name, std::string_view text) : key(name), value(text) {}
  log_field(std::string_view name, const std::string& text) : key(name), value(std::string_view{text}) {}
  log_field(std::string_view name, const char* text) : key(name), value(std::string_view{text}) {}
  template <class Int, std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool>, int> = 0>
  log_field(std::string_view name, Int number) : key(name), value(static_cast<std::int64_t>(number)) {}

  std::string_view key;
  std::variant<std::string_view, std::int64_t> value;
};

/// Returns the line `message` and `fields` make in `format`, with its newline: the timestamp `ts` first.
std::string format_log_line(log_format format, std::string_view ts, log_level level, std::string_view message,
                            std::initializer_list<log_field> fields);

/// Writes one line to stderr in the current format with a single write, so lines from threads never interleave.
void write_log_line(log_level level, std::string_view message, std::initializer_list<log_field> fields = {});

/// Writes `message` with structured `fields` when `level` is enabled:
/// `log_fields(log_level::debug, "fired", {{"trigger", name}, {"statusCode", 202}})`.
inline void log_fields(log_level level, std::string_view message, std::initializer_list<log_field> fields) {
  if (log_enabled(level))
    write_log_line(level, message, fields);
}

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

#include "core/log.hpp"

#include <atomic>
#include <string>

#include <unistd.h>

#include <simdjson.h>

#include "core/json.hpp"
#include "core/text.hpp"
#include "core/time_format.hpp"

namespace feedrouter {

namespace {

std::atomic<log_level> current_level{log_level::info};
std::atomic<log_format> current_format{log_format::text};

constexpr std::string_view level_names[] = {"error", "warn", "info", "debug"};
constexpr std::string_view format_names[] = {"text", "json"};

constexpr unsigned char ascii_delete = 0x7f;

/// Appends `text` to a text-format line: control characters (a line break in a controller's error text, say) as
/// escapes, so that one line stays one event, and every byte of text that is not valid UTF-8 as \xNN, so that the
/// line is valid UTF-8 whatever came in.
void append_text(std::string& out, std::string_view text) {
  const bool utf8 = simdjson::validate_utf8(text.data(), text.size());
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == ascii_delete || (!utf8 && byte >= 0x80)) {
      out += "\\x";
      append_hex(out, std::string_view{&c, 1});
    } else {
      out += c;
    }
  }
}

/// Returns whether a text-format value must be quoted to be read back as one value.
bool needs_quotes(std::string_view text) {
  return text.empty() || text.find_first_of(" \"=\\") != std::string_view::npos;
}

void append_text_value(std::string& out, std::string_view text) {
  if (!needs_quotes(text)) {
    append_text(out, text);
    return;
  }
  out += '"';
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '"' && text[i] != '\\')
      continue;
    append_text(out, text.substr(start, i - start));
    out += '\\';
    out += text[i];
    start = i + 1;
  }
  append_text(out, text.substr(start));
  out += '"';
}

std::string text_line(std::string_view ts, log_level level, std::string_view message,
                      std::initializer_list<log_field> fields) {
  std::string line{ts};
  line += ' ';
  line += level_names[static_cast<int>(level)];
  line += ' ';
  append_text(line, message);
  for (const auto& field : fields) {
    line += ' ';
    line += field.key;
    line += '=';
    if (const auto* number = std::get_if<std::int64_t>(&field.value))
      line += std::to_string(*number);
    else
      append_text_value(line, std::get<std::string_view>(field.value));
  }
  line += '\n';
  return line;
}

std::string json_line(std::string_view ts, log_level level, std::string_view message,
                      std::initializer_list<log_field> fields) {
  json_writer out;
  out.begin_object().key("ts").value(ts).key("level").value(level_names[static_cast<int>(level)]);
  out.key("msg").value(message);
  for (const auto& field : fields) {
    out.key(field.key);
    if (const auto* number = std::get_if<std::int64_t>(&field.value))
      out.value(*number);
    else
      out.value(std::get<std::string_view>(field.value));
  }
  out.end_object();
  auto line = out.take();
  line += '\n';
  return line;
}

} // namespace

void set_log_level(log_level level) {
  current_level.store(level, std::memory_order_relaxed);
}

bool log_enabled(log_level level) {
  return level <= current_level.load(std::memory_order_relaxed);
}

std::optional<log_level> parse_log_level(std::string_view text) {
  for (auto level : {log_level::error, log_level::warn, log_level::info, log_level::debug})
    if (level_names[static_cast<int>(level)] == text)
      return level;
  return std::nullopt;
}

void set_log_format(log_format format) {
  current_format.store(format, std::memory_order_relaxed);
}

std::optional<log_format> parse_log_format(std::string_view text) {
  for (auto format : {log_format::text, log_format::json})
    if (format_names[static_cast<int>(format)] == text)
      return format;
  return std::nullopt;
}

std::string format_log_line(log_format format, std::string_view ts, log_level level, std::string_view message,
                            std::initializer_list<log_field> fields) {
  return format == log_format::json ? json_line(ts, level, message, fields) : text_line(ts, level, message, fields);
}

void write_log_line(log_level level, std::string_view message, std::initializer_list<log_field> fields) {
  auto line = format_log_line(current_format.load(std::memory_order_relaxed), format_iso8601(now_ms()), level,
                              message, fields);
  // One write call per line: POSIX keeps it whole on a pipe up to PIPE_BUF, and in practice on a terminal or file.
  auto written = ::write(STDERR_FILENO, line.data(), line.size());
  static_cast<void>(written);
}

} // namespace feedrouter

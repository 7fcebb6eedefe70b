#include "core/log.hpp"

#include <atomic>
#include <string>

#include <unistd.h>

#include "core/time_format.hpp"

namespace feedrouter {

namespace {

std::atomic<log_level> current_level{log_level::info};

constexpr std::string_view level_names[] = {"error", "warn", "info", "debug"};

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

void write_log_line(log_level level, std::string_view message) {
  std::string line = format_iso8601(now_ms());
  line += ' ';
  line += level_names[static_cast<int>(level)];
  line += ' ';
  line += message;
  line += '\n';
  // One write call per line: POSIX keeps it whole on a pipe up to PIPE_BUF, and in practice on a terminal or file.
  auto written = ::write(STDERR_FILENO, line.data(), line.size());
  static_cast<void>(written);
}

} // namespace feedrouter

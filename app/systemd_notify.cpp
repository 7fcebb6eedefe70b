#include "app/systemd_notify.hpp"

#include <string>

#include <systemd/sd-daemon.h>

namespace feedrouter {

namespace {

void notify(std::string_view state, std::string_view status) {
  std::string message{state};
  if (!status.empty()) {
    message += "\nSTATUS=";
    // STATUS is one line of the notification's newline-separated assignments.
    for (char c : status)
      message += c == '\n' ? ' ' : c;
  }
  // The answer only says whether a socket was set; nothing to do either way.
  static_cast<void>(sd_notify(0, message.c_str()));
}

} // namespace

void notify_ready(std::string_view status) {
  notify("READY=1", status);
}

void notify_stopping(std::string_view status) {
  notify("STOPPING=1", status);
}

void notify_watchdog() {
  notify("WATCHDOG=1", {});
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
    return std::nullopt;
  return std::chrono::microseconds{static_cast<std::chrono::microseconds::rep>(usec)};
}

} // namespace feedrouter

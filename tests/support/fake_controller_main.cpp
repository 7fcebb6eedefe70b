// fake-controller: the fake OpenWhisk controller as a process, for the feed-action tests and the benchmark.
//
//   fake-controller [--listen 127.0.0.1:PORT] [--threads N] [--fire-delay-ms MS] [--trigger ns/name=uuid:key]...
//                   [--no-rule ns/name]...
//
// --fire-delay-ms answers every fire that long after it arrived: a controller that cannot keep up.
//
// Prints exactly one line, "listening on http://127.0.0.1:PORT", once it listens, then serves until SIGINT or
// SIGTERM and exits 0. Bad arguments: one line on stderr, exit 2. Cannot listen: one line on stderr, exit 1.
//
// Tests script faults (refusals, slow answers, closed connections, holds) and read attempts through the admin
// routes under /_fake/triggers/{ns}/{name}/, listed in fake_controller.hpp.

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <pthread.h>

#include "core/trigger_ref.hpp"
#include "net/io_runtime.hpp"
#include "tests/support/fake_controller.hpp"

namespace {

using namespace feedrouter;

/// Exit code for bad arguments.
constexpr int usage_error = 2;

/// Exit code when the controller cannot start (e.g. the port is taken).
constexpr int start_error = 1;

/// I/O threads by default: enough to be the benchmark's sink without competing with the service under test.
constexpr std::size_t default_threads = 2;

/// I/O threads at most; more only adds lock contention on the recording.
constexpr std::size_t max_threads = 64;

/// The slowest answer --fire-delay-ms asks for: ten minutes, like a scripted one.
constexpr std::uint64_t max_fire_delay_ms = 600'000;

constexpr std::string_view usage = "usage: fake-controller [--listen 127.0.0.1:PORT] [--threads N] "
                                   "[--fire-delay-ms MS] [--trigger ns/name=uuid:key]... [--no-rule ns/name]...";

struct trigger_arg {
  trigger_ref trigger;
  std::string auth_key;
  bool has_rule = true;
};

struct options {
  std::uint16_t port = 0;
  std::size_t threads = default_threads;
  std::uint64_t fire_delay_ms = 0;
  std::vector<trigger_arg> triggers;
  bool help = false;
};

/// The outcome of parsing: options, or the one-line message that rejects them.
struct parse_result {
  options opts;
  std::string error;
};

/// Parses a decimal number no larger than `max`.
std::optional<std::uint64_t> parse_number(std::string_view text, std::uint64_t max) {
  if (text.empty() || text.size() > 10)
    return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > max)
    return std::nullopt;
  return value;
}

/// Parses "127.0.0.1:PORT" or "localhost:PORT"; the fake listens only on loopback.
std::optional<std::uint16_t> parse_listen(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return std::nullopt;
  auto host = text.substr(0, colon);
  if (host != "127.0.0.1" && host != "localhost")
    return std::nullopt;
  auto port = parse_number(text.substr(colon + 1), UINT16_MAX);
  if (!port)
    return std::nullopt;
  return static_cast<std::uint16_t>(*port);
}

/// Parses "ns/name" (a leading slash is allowed); `_` is no namespace the fake can own.
std::optional<trigger_ref> parse_trigger(std::string_view text) {
  auto parsed = parse_trigger_name(text);
  if (!parsed || parsed->ns == "_")
    return std::nullopt;
  return std::move(*parsed);
}

/// Parses "ns/name=uuid:key".
std::optional<trigger_arg> parse_trigger_arg(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos)
    return std::nullopt;
  auto trigger = parse_trigger(text.substr(0, eq));
  auto key = text.substr(eq + 1);
  if (!trigger || key.find(':') == std::string_view::npos)
    return std::nullopt;
  return trigger_arg{std::move(*trigger), std::string{key}, true};
}

parse_result parse_args(int argc, char** argv) {
  parse_result result;
  auto fail = [&](std::string message) {
    result.error = std::move(message);
    return result;
  };
  std::vector<trigger_ref> no_rule;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      result.opts.help = true;
      return result;
    }
    // Accept both "--opt value" and "--opt=value".
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (auto eq = arg.find('='); arg.substr(0, 2) == "--" && eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (name != "--listen" && name != "--threads" && name != "--fire-delay-ms" && name != "--trigger"
        && name != "--no-rule")
      return fail("unknown argument '" + std::string{arg} + "'");
    if (!value) {
      if (i + 1 == argc)
        return fail(std::string{name} + " needs a value");
      value = argv[++i];
    }
    if (name == "--listen") {
      auto port = parse_listen(*value);
      if (!port)
        return fail("--listen must be 127.0.0.1:PORT or localhost:PORT, got '" + std::string{*value} + "'");
      result.opts.port = *port;
    } else if (name == "--threads") {
      auto threads = parse_number(*value, max_threads);
      if (!threads || *threads == 0)
        return fail("--threads must be 1 to " + std::to_string(max_threads) + ", got '" + std::string{*value} + "'");
      result.opts.threads = static_cast<std::size_t>(*threads);
    } else if (name == "--fire-delay-ms") {
      auto delay = parse_number(*value, max_fire_delay_ms);
      if (!delay)
        return fail("--fire-delay-ms must be 0 to " + std::to_string(max_fire_delay_ms) + ", got '"
                    + std::string{*value} + "'");
      result.opts.fire_delay_ms = *delay;
    } else if (name == "--trigger") {
      auto trigger = parse_trigger_arg(*value);
      if (!trigger)
        return fail("--trigger must be ns/name=uuid:key, got '" + std::string{*value} + "'");
      result.opts.triggers.push_back(std::move(*trigger));
    } else {
      auto trigger = parse_trigger(*value);
      if (!trigger)
        return fail("--no-rule must be ns/name, got '" + std::string{*value} + "'");
      no_rule.push_back(std::move(*trigger));
    }
  }
  for (const auto& trigger : no_rule) {
    bool found = false;
    for (auto& arg : result.opts.triggers) {
      if (arg.trigger == trigger) {
        arg.has_rule = false;
        found = true;
      }
    }
    if (!found)
      return fail("--no-rule " + trigger.key() + " names no --trigger");
  }
  return result;
}

} // namespace

int main(int argc, char** argv) {
  auto parsed = parse_args(argc, argv);
  if (!parsed.error.empty()) {
    std::cerr << "fake-controller: " << parsed.error << std::endl;
    return usage_error;
  }
  if (parsed.opts.help) {
    std::cout << usage << std::endl;
    return EXIT_SUCCESS;
  }
  // Blocked before any thread starts, so every I/O thread inherits the mask and only sigwait() sees the signals.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  try {
    io_runtime io{parsed.opts.threads};
    fake_controller controller{io, parsed.opts.port};
    for (const auto& arg : parsed.opts.triggers)
      controller.add_trigger(arg.trigger, arg.auth_key, arg.has_rule);
    controller.answer_fires_after(std::chrono::milliseconds{parsed.opts.fire_delay_ms});
    std::cout << "listening on " << controller.url() << std::endl;
    int received = 0;
    sigwait(&stop_signals, &received);
    controller.stop();
    io.stop();
  } catch (const std::exception& e) {
    std::cerr << "fake-controller: " << e.what() << std::endl;
    return start_error;
  }
  return EXIT_SUCCESS;
}

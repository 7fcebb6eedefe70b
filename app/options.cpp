#include "app/options.hpp"

#include <CLI/CLI.hpp>

#include "app/version.hpp"

namespace feedrouter {

namespace {

constexpr int usage_error = 2;

/// Splits "HOST:PORT"; the host may be "[v6]".
std::optional<std::pair<std::string, std::uint16_t>> split_listen(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return std::nullopt;
  auto host = text.substr(0, colon);
  if (host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty())
    return std::nullopt;
  try {
    std::size_t used = 0;
    auto port = std::stoul(text.substr(colon + 1), &used);
    constexpr unsigned long max_port = 65535;
    if (used != text.size() - colon - 1 || port > max_port)
      return std::nullopt;
    return std::make_pair(host, static_cast<std::uint16_t>(port));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

exit_request usage(const std::string& message) {
  return {usage_error, "feedrouter: " + message + " (see --help)"};
}

} // namespace

std::variant<options, exit_request> parse_options(int argc, char** argv) {
  options result;
  std::string listen = "127.0.0.1:8080";
  std::string api_host = "http://127.0.0.1:3233";
  std::string level = "info";
  bool no_verify_auth = false;
  bool version = false;
  CLI::App app{"feedrouter: an event-feed provider for Apache OpenWhisk (alarms, hooks, polling, connections)",
               "feedrouter"};
  app.add_option("--listen", listen, "HOST:PORT the lifecycle API listens on (port 0: a free port)")
    ->envname("FEEDROUTER_LISTEN")
    ->capture_default_str();
  app.add_option("--api-host", api_host, "OpenWhisk API base URL that triggers are fired at")
    ->envname("FEEDROUTER_API_HOST")
    ->capture_default_str();
  app.add_option("--store", result.store, "where registrations are kept: sqlite:PATH")
    ->envname("FEEDROUTER_STORE")
    ->capture_default_str();
  app.add_flag("--no-verify-auth", no_verify_auth,
               "trust the authKey of a CREATE instead of checking it with the OpenWhisk controller")
    ->envname("FEEDROUTER_NO_VERIFY_AUTH");
  app.add_option("--log-level", level, "error, warn, info or debug")
    ->envname("FEEDROUTER_LOG_LEVEL")
    ->capture_default_str();
  app.add_option("--body-limit", result.body_limit, "largest request body in bytes; larger ones get 413")
    ->envname("FEEDROUTER_BODY_LIMIT")
    ->check(CLI::Range(std::size_t{1024}, std::size_t{64} * 1024 * 1024))
    ->capture_default_str();
  app.add_flag("--version", version, "print the version and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return exit_request{0, app.help()};
  } catch (const CLI::ParseError& e) {
    return usage(e.what());
  }
  if (version)
    return exit_request{0, std::string{"feedrouter "} + feedrouter_version};
  auto where = split_listen(listen);
  if (!where)
    return usage("--listen: expected HOST:PORT with a port from 0 to 65535, got '" + listen + "'");
  result.listen_host = where->first;
  result.listen_port = where->second;
  auto parsed_api_host = parse_url(api_host, "--api-host");
  if (!parsed_api_host)
    return usage("--api-host: " + parsed_api_host.error().message);
  result.api_host = *parsed_api_host;
  auto parsed_level = parse_log_level(level);
  if (!parsed_level)
    return usage("--log-level: expected error, warn, info or debug, got '" + level + "'");
  result.level = *parsed_level;
  result.verify_auth = !no_verify_auth;
  return result;
}

} // namespace feedrouter

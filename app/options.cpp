#include "app/options.hpp"

#include <CLI/CLI.hpp>

#include "app/memory_budget.hpp"
#include "app/version.hpp"
#include "core/text.hpp"

namespace feedrouter {

namespace {

constexpr int usage_error = 2;

/// The range of --max-buffered-bytes: 1 MiB to 1 TiB.
constexpr std::size_t min_buffered_bytes = std::size_t{1} << 20;
constexpr std::size_t max_buffered_bytes = std::size_t{1} << 40;

/// A registration's share of the budget is an eighth of it: the budget must give one the largest webhook body.
constexpr std::size_t bodies_per_budget = 8;

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
  app.add_option("--store", result.store,
                 "where registrations are kept: sqlite:PATH, or postgresql://USER@HOST:PORT/DB for a cluster")
    ->envname("FEEDROUTER_STORE")
    ->capture_default_str();
  app.add_option("--store-password-file", result.store_password_file,
                 "file whose first line is the PostgreSQL password (mode 0600); or the URI's, or PGPASSFILE")
    ->envname("FEEDROUTER_STORE_PASSWORD_FILE");
  app.add_option("--secrets-key-file", result.secrets_key_file,
                 "file with the key that seals the store's secrets; created (0600) when missing for a new store "
                 "(default: PATH.key beside a sqlite:PATH store; a PostgreSQL store needs it named)")
    ->envname("FEEDROUTER_SECRETS_KEY_FILE");
  // No environment variables for these two: set in a deployment, they would act on every start.
  app.add_flag("--init-store", result.init_store,
               "accept an existing empty (0 bytes) store file as a new store; without it such a file is refused");
  bool check_store = false;
  app.add_flag("--check-store", check_store,
               "check the store (full integrity check, secrets key) and exit: 0 when sound, 2 otherwise");
  app.add_flag("--no-verify-auth", no_verify_auth,
               "trust the authKey of a CREATE instead of checking it with the OpenWhisk controller")
    ->envname("FEEDROUTER_NO_VERIFY_AUTH");
  app.add_option("--log-level", level, "error, warn, info or debug")
    ->envname("FEEDROUTER_LOG_LEVEL")
    ->capture_default_str();
  std::string format = "text";
  app.add_option("--log-format", format, "text, or json: one JSON object per line")
    ->envname("FEEDROUTER_LOG_FORMAT")
    ->capture_default_str();
  app.add_option("--body-limit", result.body_limit, "largest request body in bytes; larger ones get 413")
    ->envname("FEEDROUTER_BODY_LIMIT")
    ->check(CLI::Range(std::size_t{1024}, std::size_t{64} * 1024 * 1024))
    ->capture_default_str();
  app.add_option("--public-url", result.public_url,
                 "base URL webhook senders reach this service at (default: http://LISTEN)")
    ->envname("FEEDROUTER_PUBLIC_URL");
  double fire_timeout_s = 10;
  app.add_option("--fire-timeout", fire_timeout_s, "seconds one fire may take before it counts as failed")
    ->envname("FEEDROUTER_FIRE_TIMEOUT")
    ->check(CLI::Range(0.1, 300.0))
    ->capture_default_str();
  app.add_option("--retry-attempts", result.retry_attempts,
                 "attempts per fire before its events go to dead letters (a registration may set fewer)")
    ->envname("FEEDROUTER_RETRY_ATTEMPTS")
    ->check(CLI::Range(1, 100))
    ->capture_default_str();
  double retry_max_age_s = 3600;
  app.add_option("--retry-max-age", retry_max_age_s, "seconds an event may be retried after it was accepted")
    ->envname("FEEDROUTER_RETRY_MAX_AGE")
    ->check(CLI::Range(1.0, 7.0 * 24 * 3600))
    ->capture_default_str();
  app.add_option("--namespace-fire-rate", result.namespace_fire_rate,
                 "fires per second per namespace at most (token bucket); 0: unlimited")
    ->envname("FEEDROUTER_NAMESPACE_FIRE_RATE")
    ->check(CLI::Range(0.0, 1e6))
    ->capture_default_str();
  app.add_option("--max-buffered-events", result.max_buffered_events,
                 "events one registration holds pending (in memory or the store) while the controller is slow; "
                 "webhook senders beyond it get 429")
    ->envname("FEEDROUTER_MAX_BUFFERED_EVENTS")
    ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
    ->capture_default_str();
  result.max_buffered_bytes = default_buffered_bytes(usable_memory());
  app.add_option("--max-buffered-bytes", result.max_buffered_bytes,
                 "bytes of event bodies all registrations hold in memory (e.g. 256MiB); beyond it events wait in the "
                 "store (default: 1/8 of the memory, at least 64 MiB, at most 4 GiB)")
    ->envname("FEEDROUTER_MAX_BUFFERED_BYTES")
    ->transform(CLI::AsSizeValue(false))
    ->check(CLI::Range(min_buffered_bytes, max_buffered_bytes))
    ->capture_default_str();
  app.add_option("--max-registrations-per-namespace", result.max_registrations_per_namespace,
                 "registrations one namespace may have; a CREATE beyond it gets 429")
    ->envname("FEEDROUTER_MAX_REGISTRATIONS_PER_NAMESPACE")
    ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}))
    ->capture_default_str();
  app.add_option("--fire-window", result.fire_window,
                 "fires of one registration on the wire at once; 1 sends the next only after an answer")
    ->envname("FEEDROUTER_FIRE_WINDOW")
    ->check(CLI::Range(std::size_t{1}, std::size_t{64}))
    ->capture_default_str();
  app.add_option("--max-kafka-feeds", result.max_kafka_feeds,
                 "kafka registrations that read at once; each runs a Kafka client with threads of its own")
    ->envname("FEEDROUTER_MAX_KAFKA_FEEDS")
    ->check(CLI::Range(std::size_t{1}, std::size_t{10'000}))
    ->capture_default_str();
  app.add_option("--max-redis-feeds", result.max_redis_feeds,
                 "redis-stream registrations that read at once; each holds one connection to its Redis server")
    ->envname("FEEDROUTER_MAX_REDIS_FEEDS")
    ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}))
    ->capture_default_str();
  app.add_option("--max-mqtt-feeds", result.max_mqtt_feeds,
                 "mqtt registrations that read at once; each holds one connection to its MQTT broker")
    ->envname("FEEDROUTER_MAX_MQTT_FEEDS")
    ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}))
    ->capture_default_str();
  double shutdown_grace_s = 10;
  app.add_option("--shutdown-grace", shutdown_grace_s, "seconds SIGTERM waits for fires in flight to finish")
    ->envname("FEEDROUTER_SHUTDOWN_GRACE")
    ->check(CLI::Range(0.0, 600.0))
    ->capture_default_str();
  app.add_option("--ca-file", result.ca_file,
                 "PEM certificates that verify an https API host (default: system store); never tenants' endpoints")
    ->envname("FEEDROUTER_CA_FILE");
  app.add_flag("--insecure-skip-verify", result.insecure_skip_verify,
               "accept any certificate from an https API host (self-signed development controllers only); tenants' "
               "endpoints are verified regardless")
    ->envname("FEEDROUTER_INSECURE_SKIP_VERIFY");
  std::vector<std::string> allow_egress;
  app.add_option("--allow-egress", allow_egress,
                 "let tenants' poll and changes URLs reach CIDR, ADDRESS:PORT or HOST[:PORT] too (repeatable; "
                 "comma-separated in the environment)")
    ->envname("FEEDROUTER_ALLOW_EGRESS")
    ->delimiter(',')
    ->type_name("CIDR|HOST[:PORT]");
  app.add_flag("--openwhisk-cron-months", result.openwhisk_cron_months,
               "alarms created through the feed actions number cron months 0-11 as OpenWhisk's alarms do (fixed per "
               "registration at CREATE)")
    ->envname("FEEDROUTER_OPENWHISK_CRON_MONTHS");
  app.add_flag("--limit-cron-fields", result.limit_cron_fields,
               "refuse alarm crons with a seconds field other than 0 (OpenWhisk's LIMIT_CRON_FIELDS)")
    ->envname("FEEDROUTER_LIMIT_CRON_FIELDS");
  double lease_ttl_s = 10;
  app.add_option("--lease-ttl", lease_ttl_s,
                 "cluster (PostgreSQL store): seconds a shard lease lasts unrenewed; renewed every third of it")
    ->envname("FEEDROUTER_LEASE_TTL")
    ->check(CLI::Range(1.0, 300.0))
    ->capture_default_str();
  app.add_option("--advertise-url", result.advertise_url,
                 "cluster: base URL the other instances forward requests to this one at (default: --public-url)")
    ->envname("FEEDROUTER_ADVERTISE_URL");
  app.add_option("--admin-key-file", result.admin_key_file,
                 "file (mode 0600 or stricter) with the key operators send as \"Authorization: Bearer KEY\" to the "
                 "admin routes (/v1/admin/); without it there are none")
    ->envname("FEEDROUTER_ADMIN_KEY_FILE");
  app.add_flag("--version", version, "print the version and exit");
  // The flags above may also follow the subcommand: `feedrouter rotate-key --store sqlite:PATH`.
  app.fallthrough();
  app.require_subcommand(0, 1);
  auto* rotate_key = app.add_subcommand(
    "rotate-key", "seal every secret of the store under a new key (stop the service first); the old key file is kept "
                  "as KEY_FILE.ID.old");
  auto* import_openwhisk = app.add_subcommand(
    "import-openwhisk", "create the registrations an OpenWhisk alarms or cloudant provider keeps in its CouchDB "
                        "database (stop the service first); see docs/migrating-from-openwhisk.md");
  std::string import_kind;
  import_openwhisk->add_option("--couchdb", result.import.couchdb,
                               "the provider's CouchDB: http(s)://[user:password@]host[:port]")
    ->required();
  import_openwhisk->add_option("--db", result.import.db, "the provider's database, e.g. alarmservice")->required();
  import_openwhisk->add_option("--kind", import_kind, "alarms or cloudant")->required();
  import_openwhisk->add_flag("--dry-run", result.import.dry_run, "report what would be imported; write nothing");
  import_openwhisk->add_flag("--disable-source", result.import.disable_source,
                             "mark each imported trigger inactive in the provider's database, as it marks a trigger "
                             "it disabled");
  auto* check_config = app.add_subcommand(
    "check-config", "check the settings (flags, FEEDROUTER_* variables) and the store without starting, then exit: 0 "
                    "when sound, 2 with one line per problem");
  check_config->add_option("--config", result.config_file,
                           "also check FILE, KEY=VALUE lines as systemd's EnvironmentFile= reads them, and apply it");
  auto* migrate = app.add_subcommand(
    "migrate", "copy every registration with its events, dead letters and checkpoint from one store into another, "
               "in one transaction; a registration already there is replaced (stop the service first)");
  migrate->add_option("--from", result.migrate_from, "the store to copy from, e.g. sqlite:PATH")->required();
  migrate->add_option("--to", result.migrate_to, "the store to copy into, e.g. postgresql://USER@HOST:PORT/DB")
    ->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return exit_request{0, app.help()};
  } catch (const CLI::ParseError& e) {
    return usage(e.what());
  }
  if (version)
    return exit_request{0, std::string{"feedrouter "} + feedrouter_version};
  for (const auto* command : {rotate_key, migrate, import_openwhisk})
    if (check_store && command->parsed())
      return usage("--check-store: cannot be combined with " + command->get_name());
  if (check_store && check_config->parsed())
    return usage("--check-store: cannot be combined with check-config (which checks the store too)");
  result.mode = rotate_key->parsed()         ? run_mode::rotate_key
                : migrate->parsed()          ? run_mode::migrate
                : check_config->parsed()     ? run_mode::check_config
                : import_openwhisk->parsed() ? run_mode::import_openwhisk
                : check_store                ? run_mode::check_store
                                             : run_mode::serve;
  if (import_openwhisk->parsed()) {
    if (import_kind != "alarms" && import_kind != "cloudant")
      return usage("--kind: expected alarms or cloudant, got '" + import_kind + "'");
    result.import.kind = import_kind == "alarms" ? openwhisk_provider_kind::alarms : openwhisk_provider_kind::cloudant;
    if (result.import.dry_run && result.import.disable_source)
      return usage("--disable-source: cannot be combined with --dry-run, which writes nothing");
  }
  for (const auto* option : app.get_options())
    if (!option->get_envname().empty())
      result.environment_names.push_back(option->get_envname());
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
  auto parsed_format = parse_log_format(format);
  if (!parsed_format)
    return usage("--log-format: expected text or json, got '" + format + "'");
  result.format = *parsed_format;
  result.verify_auth = !no_verify_auth;
  if (result.max_buffered_bytes / bodies_per_budget < result.body_limit)
    return usage("--max-buffered-bytes: " + std::to_string(result.max_buffered_bytes) + " is less than "
                 + std::to_string(bodies_per_budget) + " times --body-limit (" + std::to_string(result.body_limit)
                 + "): a registration's share, an eighth of the budget, must hold the largest event");
  auto to_ms = [](double seconds) { return std::chrono::milliseconds{static_cast<std::int64_t>(seconds * 1000)}; };
  result.fire_timeout = to_ms(fire_timeout_s);
  result.retry_max_age = to_ms(retry_max_age_s);
  result.shutdown_grace = to_ms(shutdown_grace_s);
  result.lease_ttl = to_ms(lease_ttl_s);
  for (const auto& text : allow_egress) {
    // "a, b" in the environment reads as "a" and "b".
    auto rule = parse_egress_rule(trim_ows(text), "--allow-egress");
    if (!rule)
      return usage(rule.error().field + ": " + rule.error().message);
    result.allow_egress.push_back(std::move(*rule));
  }
  if (!result.public_url.empty()) {
    auto parsed_public = parse_url(result.public_url, "--public-url");
    if (!parsed_public)
      return usage("--public-url: " + parsed_public.error().message);
    while (!result.public_url.empty() && result.public_url.back() == '/')
      result.public_url.pop_back();
  }
  if (!result.advertise_url.empty()) {
    auto parsed_advertise = parse_url(result.advertise_url, "--advertise-url");
    if (!parsed_advertise)
      return usage("--advertise-url: " + parsed_advertise.error().message);
    while (!result.advertise_url.empty() && result.advertise_url.back() == '/')
      result.advertise_url.pop_back();
  }
  return result;
}

} // namespace feedrouter

#include "app/options.hpp"

#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

#include "app/memory_budget.hpp"
#include "app/version.hpp"

using namespace feedrouter;
using Catch::Matchers::Contains;

namespace {

/// Clears the FEEDROUTER_* variables for one test and puts back what the environment had.
class env_guard {
public:
  env_guard() {
    for (const char* name : names_) {
      const char* value = std::getenv(name);
      saved_.emplace_back(name, value != nullptr ? std::optional<std::string>{value} : std::nullopt);
      ::unsetenv(name);
    }
  }

  ~env_guard() {
    for (const auto& [name, value] : saved_) {
      if (value)
        ::setenv(name, value->c_str(), 1);
      else
        ::unsetenv(name);
    }
  }

  env_guard(const env_guard&) = delete;
  env_guard& operator=(const env_guard&) = delete;

  void set(const char* name, const char* value) {
    ::setenv(name, value, 1);
  }

private:
  static constexpr const char* names_[] = {"FEEDROUTER_LISTEN",    "FEEDROUTER_API_HOST",  "FEEDROUTER_STORE",
                                           "FEEDROUTER_NO_VERIFY_AUTH", "FEEDROUTER_LOG_LEVEL",
                                           "FEEDROUTER_LOG_FORMAT",
                                           "FEEDROUTER_BODY_LIMIT", "FEEDROUTER_SECRETS_KEY_FILE",
                                           "FEEDROUTER_ALLOW_EGRESS", "FEEDROUTER_MAX_BUFFERED_BYTES",
                                           "FEEDROUTER_MAX_REGISTRATIONS_PER_NAMESPACE",
                                           "FEEDROUTER_STORE_PASSWORD_FILE",
                                           "FEEDROUTER_OPENWHISK_CRON_MONTHS", "FEEDROUTER_LIMIT_CRON_FIELDS",
                                           "FEEDROUTER_MAX_MQTT_FEEDS"};
  std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

std::variant<options, exit_request> parse(std::initializer_list<std::string> flags) {
  std::vector<std::string> args{"feedrouter"};
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  return parse_options(static_cast<int>(args.size()), argv.data());
}

options run(std::initializer_list<std::string> flags) {
  auto parsed = parse(flags);
  std::string text;
  if (const auto* exit = std::get_if<exit_request>(&parsed))
    text = exit->text;
  INFO("exit: " << text);
  REQUIRE(std::holds_alternative<options>(parsed));
  return std::get<options>(parsed);
}

exit_request exit_with(std::initializer_list<std::string> flags) {
  auto parsed = parse(flags);
  REQUIRE(std::holds_alternative<exit_request>(parsed));
  return std::get<exit_request>(parsed);
}

/// Requires a usage error: exit code 2 and one line that names `flag`.
void check_usage_error(std::initializer_list<std::string> flags, std::string_view flag) {
  auto req = exit_with(flags);
  INFO("text: " << req.text);
  CHECK(req.code == 2);
  CHECK_THAT(req.text, Contains(std::string{flag}));
  CHECK(req.text.find('\n') == std::string::npos);
}

} // namespace

// -- defaults and flags ------------------------------------------------------------------------------

TEST_CASE("without flags or environment the defaults apply", "[options]") {
  env_guard env;
  auto opts = run({});
  CHECK(opts.listen_host == "127.0.0.1");
  CHECK(opts.listen_port == 8080);
  CHECK(opts.api_host.scheme == "http");
  CHECK(opts.api_host.host == "127.0.0.1");
  CHECK(opts.api_host.port == 3233);
  CHECK(opts.api_host.origin() == "http://127.0.0.1:3233");
  CHECK(opts.store == "sqlite:./feedrouter.db");
  CHECK(opts.verify_auth);
  CHECK(opts.level == log_level::info);
  CHECK(opts.body_limit == 1024 * 1024);
}

TEST_CASE("the --listen flag sets host and port", "[options]") {
  env_guard env;
  auto opts = run({"--listen", "0.0.0.0:9090"});
  CHECK(opts.listen_host == "0.0.0.0");
  CHECK(opts.listen_port == 9090);
  auto v6 = run({"--listen=[::1]:0"});
  CHECK(v6.listen_host == "::1");
  CHECK(v6.listen_port == 0);
  auto named = run({"--listen", "localhost:65535"});
  CHECK(named.listen_host == "localhost");
  CHECK(named.listen_port == 65535);
}

TEST_CASE("the --api-host flag sets the OpenWhisk URL", "[options]") {
  env_guard env;
  auto opts = run({"--api-host", "https://openwhisk.example.com"});
  CHECK(opts.api_host.scheme == "https");
  CHECK(opts.api_host.host == "openwhisk.example.com");
  CHECK(opts.api_host.port == 443);
  CHECK(run({"--api-host", "http://controller:10001"}).api_host.origin() == "http://controller:10001");
}

TEST_CASE("the --store flag sets where registrations are kept", "[options]") {
  env_guard env;
  CHECK(run({"--store", "sqlite:/var/lib/feedrouter/db.sqlite"}).store == "sqlite:/var/lib/feedrouter/db.sqlite");
}

TEST_CASE("the --no-verify-auth flag turns off the authKey check", "[options]") {
  env_guard env;
  CHECK_FALSE(run({"--no-verify-auth"}).verify_auth);
}

TEST_CASE("the --log-level flag takes each level", "[options]") {
  env_guard env;
  CHECK(run({"--log-level", "error"}).level == log_level::error);
  CHECK(run({"--log-level", "warn"}).level == log_level::warn);
  CHECK(run({"--log-level", "info"}).level == log_level::info);
  CHECK(run({"--log-level", "debug"}).level == log_level::debug);
}

TEST_CASE("the --body-limit flag sets the largest request body", "[options]") {
  env_guard env;
  CHECK(run({"--body-limit", "2048"}).body_limit == 2048);
}

TEST_CASE("all flags can be given together", "[options]") {
  env_guard env;
  auto opts = run({"--listen", "10.0.0.1:1234", "--api-host", "https://ow.example:8443", "--store", "sqlite:x.db",
                   "--no-verify-auth", "--log-level", "warn", "--body-limit", "4096"});
  CHECK(opts.listen_host == "10.0.0.1");
  CHECK(opts.listen_port == 1234);
  CHECK(opts.api_host.origin() == "https://ow.example:8443");
  CHECK(opts.store == "sqlite:x.db");
  CHECK_FALSE(opts.verify_auth);
  CHECK(opts.level == log_level::warn);
  CHECK(opts.body_limit == 4096);
}

// -- environment -----------------------------------------------------------------------------------

TEST_CASE("FEEDROUTER_* environment variables set the options", "[options]") {
  env_guard env;
  env.set("FEEDROUTER_LISTEN", "0.0.0.0:7000");
  env.set("FEEDROUTER_API_HOST", "https://ow.example");
  env.set("FEEDROUTER_STORE", "sqlite:/tmp/env.db");
  env.set("FEEDROUTER_NO_VERIFY_AUTH", "true");
  env.set("FEEDROUTER_LOG_LEVEL", "debug");
  env.set("FEEDROUTER_BODY_LIMIT", "8192");
  auto opts = run({});
  CHECK(opts.listen_host == "0.0.0.0");
  CHECK(opts.listen_port == 7000);
  CHECK(opts.api_host.origin() == "https://ow.example:443");
  CHECK(opts.store == "sqlite:/tmp/env.db");
  CHECK_FALSE(opts.verify_auth);
  CHECK(opts.level == log_level::debug);
  CHECK(opts.body_limit == 8192);
}

TEST_CASE("FEEDROUTER_NO_VERIFY_AUTH reads 1 as on and false as off", "[options]") {
  env_guard env;
  env.set("FEEDROUTER_NO_VERIFY_AUTH", "1");
  CHECK_FALSE(run({}).verify_auth);
  env.set("FEEDROUTER_NO_VERIFY_AUTH", "false");
  CHECK(run({}).verify_auth);
}

TEST_CASE("flags override environment variables", "[options]") {
  env_guard env;
  env.set("FEEDROUTER_LISTEN", "0.0.0.0:7000");
  env.set("FEEDROUTER_API_HOST", "https://env.example");
  env.set("FEEDROUTER_STORE", "sqlite:/tmp/env.db");
  env.set("FEEDROUTER_LOG_LEVEL", "debug");
  env.set("FEEDROUTER_BODY_LIMIT", "8192");
  auto opts = run({"--listen", "127.0.0.2:7001", "--api-host", "http://flag.example", "--store", "sqlite:flag.db",
                   "--log-level", "error", "--body-limit", "2048"});
  CHECK(opts.listen_host == "127.0.0.2");
  CHECK(opts.listen_port == 7001);
  CHECK(opts.api_host.origin() == "http://flag.example:80");
  CHECK(opts.store == "sqlite:flag.db");
  CHECK(opts.level == log_level::error);
  CHECK(opts.body_limit == 2048);
}

TEST_CASE("an invalid environment variable is a usage error naming its flag", "[options]") {
  env_guard env;
  env.set("FEEDROUTER_LISTEN", "nowhere");
  check_usage_error({}, "--listen");
}

// -- help and version ----------------------------------------------------------------------------------

TEST_CASE("the --help flag prints the flags and exits 0", "[options]") {
  env_guard env;
  for (const auto* flag : {"--help", "-h"}) {
    auto req = exit_with({flag});
    CHECK(req.code == 0);
    for (auto name : {"--listen", "--api-host", "--store", "--no-verify-auth", "--log-level", "--body-limit",
                      "--version"})
      CHECK_THAT(req.text, Contains(name));
  }
}

TEST_CASE("the --version flag prints the version and exits 0", "[options]") {
  env_guard env;
  auto req = exit_with({"--version"});
  CHECK(req.code == 0);
  CHECK(req.text == std::string{"feedrouter "} + feedrouter_version);
  CHECK_FALSE(std::string_view{feedrouter_version}.empty());
}

// -- usage errors ----------------------------------------------------------------------------------------

TEST_CASE("an invalid --listen is a usage error naming --listen", "[options]") {
  env_guard env;
  for (const auto* value : {"nowhere", ":8080", "host:", "host:65536", "host:http", "host:80x", "host:-1", "",
                            "[::1]"}) {
    INFO("'" << value << "'");
    check_usage_error({"--listen", value}, "--listen");
  }
}

TEST_CASE("a --listen with empty brackets is a usage error", "[options]") {
  // split_listen strips "[]" to an empty host and accepts it.
  env_guard env;
  check_usage_error({"--listen", "[]:8080"}, "--listen");
}

TEST_CASE("an invalid --api-host is a usage error naming --api-host", "[options]") {
  env_guard env;
  for (const auto* value : {"not a url", "ftp://example.com", "example.com", "http://", "http://user@host", ""}) {
    INFO("'" << value << "'");
    check_usage_error({"--api-host", value}, "--api-host");
  }
}

TEST_CASE("an invalid --log-level is a usage error naming --log-level", "[options]") {
  env_guard env;
  for (const auto* value : {"verbose", "DEBUG", "", "trace"}) {
    INFO("'" << value << "'");
    check_usage_error({"--log-level", value}, "--log-level");
  }
}

TEST_CASE("a --body-limit out of range or not a number is a usage error naming --body-limit", "[options]") {
  env_guard env;
  for (const auto* value : {"10", "0", "1000000000", "lots", "-5"}) {
    INFO("'" << value << "'");
    check_usage_error({"--body-limit", value}, "--body-limit");
  }
}

TEST_CASE("the --fire-window flag sets the fires of one registration on the wire, 1 unless given", "[options]") {
  env_guard env;
  CHECK(run({}).fire_window == 1);
  CHECK(run({"--fire-window", "8"}).fire_window == 8);
  for (const auto* value : {"0", "65", "many"}) {
    INFO("'" << value << "'");
    check_usage_error({"--fire-window", value}, "--fire-window");
  }
}

TEST_CASE("the memory budget is sized to the machine unless --max-buffered-bytes says otherwise", "[options]") {
  env_guard env;
  CHECK(run({}).max_buffered_bytes == default_buffered_bytes(usable_memory()));
  CHECK(run({"--max-buffered-bytes", "16MiB"}).max_buffered_bytes == 16 * 1024 * 1024);
  CHECK(run({"--max-buffered-bytes", "2g"}).max_buffered_bytes == std::size_t{2} * 1024 * 1024 * 1024);
  CHECK(run({"--max-buffered-bytes", "33554432"}).max_buffered_bytes == 32 * 1024 * 1024);
  env.set("FEEDROUTER_MAX_BUFFERED_BYTES", "64MiB");
  CHECK(run({}).max_buffered_bytes == 64 * 1024 * 1024);
}

TEST_CASE("the default memory budget is an eighth of the memory, at least 64 MiB and at most 4 GiB", "[options]") {
  constexpr std::size_t mib = 1024 * 1024;
  CHECK(default_buffered_bytes(0) == 64 * mib);
  CHECK(default_buffered_bytes(256 * mib) == 64 * mib);
  CHECK(default_buffered_bytes(2048 * mib) == 256 * mib);
  CHECK(default_buffered_bytes(24 * 1024 * mib) == 3 * 1024 * mib);
  CHECK(default_buffered_bytes(512 * 1024 * mib) == 4 * 1024 * mib);
}

TEST_CASE("a memory budget too small, or not a size, is a usage error naming --max-buffered-bytes", "[options]") {
  env_guard env;
  for (const auto* value : {"0", "1000", "lots", "-5", "2TiB"}) {
    INFO("'" << value << "'");
    check_usage_error({"--max-buffered-bytes", value}, "--max-buffered-bytes");
  }
  // A registration's share, an eighth, must hold the largest webhook body.
  check_usage_error({"--max-buffered-bytes", "4MiB"}, "--body-limit");
  CHECK(run({"--max-buffered-bytes", "4MiB", "--body-limit", "524288"}).max_buffered_bytes == 4 * 1024 * 1024);
}

TEST_CASE("the --max-registrations-per-namespace flag sets the quota, 10 000 unless given", "[options]") {
  env_guard env;
  CHECK(run({}).max_registrations_per_namespace == 10'000);
  CHECK(run({"--max-registrations-per-namespace", "5"}).max_registrations_per_namespace == 5);
  env.set("FEEDROUTER_MAX_REGISTRATIONS_PER_NAMESPACE", "7");
  CHECK(run({}).max_registrations_per_namespace == 7);
  for (const auto* value : {"0", "many", "-1"}) {
    INFO("'" << value << "'");
    check_usage_error({"--max-registrations-per-namespace", value}, "--max-registrations-per-namespace");
  }
}

TEST_CASE("the --max-mqtt-feeds flag bounds the MQTT connections, 1000 unless given", "[options]") {
  env_guard env;
  CHECK(run({}).max_mqtt_feeds == 1000);
  CHECK(run({"--max-mqtt-feeds", "2"}).max_mqtt_feeds == 2);
  env.set("FEEDROUTER_MAX_MQTT_FEEDS", "3");
  CHECK(run({}).max_mqtt_feeds == 3);
  for (const auto* value : {"0", "100001", "many"}) {
    INFO("'" << value << "'");
    check_usage_error({"--max-mqtt-feeds", value}, "--max-mqtt-feeds");
  }
}

TEST_CASE("an unknown flag or a stray argument is a usage error naming it", "[options]") {
  env_guard env;
  check_usage_error({"--bogus"}, "--bogus");
  check_usage_error({"--listen", "127.0.0.1:1", "--verify-auth"}, "--verify-auth");
  check_usage_error({"extra"}, "extra");
}

TEST_CASE("a flag without its value is a usage error naming the flag", "[options]") {
  env_guard env;
  check_usage_error({"--listen"}, "--listen");
  check_usage_error({"--log-level"}, "--log-level");
}

// -- the store's secrets and integrity ---------------------------------------------------------------------

TEST_CASE("the store flags name the key file and accept an empty store, by default neither", "[options]") {
  env_guard env;
  auto defaults = run({});
  CHECK(defaults.secrets_key_file.empty());
  CHECK_FALSE(defaults.init_store);
  CHECK(defaults.mode == run_mode::serve);
  auto opts = run({"--secrets-key-file", "/etc/feedrouter/secrets.key", "--init-store"});
  CHECK(opts.secrets_key_file == "/etc/feedrouter/secrets.key");
  CHECK(opts.init_store);
  env.set("FEEDROUTER_SECRETS_KEY_FILE", "/run/secrets/feedrouter.key");
  CHECK(run({}).secrets_key_file == "/run/secrets/feedrouter.key");
  CHECK(run({"--secrets-key-file", "flag.key"}).secrets_key_file == "flag.key");
}

TEST_CASE("the --store-password-file flag names the PostgreSQL password's file, by default none", "[options]") {
  env_guard env;
  CHECK(run({}).store_password_file.empty());
  auto opts = run({"--store", "postgresql://feedrouter@db.example:5432/feedrouter", "--store-password-file",
                   "/run/secrets/pg"});
  CHECK(opts.store == "postgresql://feedrouter@db.example:5432/feedrouter");
  CHECK(opts.store_password_file == "/run/secrets/pg");
  env.set("FEEDROUTER_STORE_PASSWORD_FILE", "/env/pg");
  CHECK(run({}).store_password_file == "/env/pg");
}

TEST_CASE("the migrate subcommand takes the store to copy from and the store to copy into", "[options]") {
  env_guard env;
  auto opts = run({"migrate", "--from", "sqlite:/x.db", "--to", "postgresql://feedrouter@db/feedrouter",
                   "--store-password-file", "/pg", "--secrets-key-file", "/x.key"});
  CHECK(opts.mode == run_mode::migrate);
  CHECK(opts.migrate_from == "sqlite:/x.db");
  CHECK(opts.migrate_to == "postgresql://feedrouter@db/feedrouter");
  CHECK(opts.store_password_file == "/pg");
  CHECK(opts.secrets_key_file == "/x.key");
  check_usage_error({"migrate", "--from", "sqlite:/x.db"}, "--to");
  check_usage_error({"migrate", "--to", "sqlite:/x.db"}, "--from");
  check_usage_error({"--check-store", "migrate", "--from", "sqlite:/x.db", "--to", "sqlite:/y.db"}, "--check-store");
}

TEST_CASE("the --check-store flag and the rotate-key subcommand choose what the program does", "[options]") {
  env_guard env;
  CHECK(run({"--check-store"}).mode == run_mode::check_store);
  auto rotate = run({"rotate-key"});
  CHECK(rotate.mode == run_mode::rotate_key);
  // The store flags may come before or after the subcommand.
  for (auto opts : {run({"rotate-key", "--store", "sqlite:/x.db", "--secrets-key-file", "/x.key"}),
                    run({"--store", "sqlite:/x.db", "rotate-key", "--secrets-key-file", "/x.key"})}) {
    CHECK(opts.mode == run_mode::rotate_key);
    CHECK(opts.store == "sqlite:/x.db");
    CHECK(opts.secrets_key_file == "/x.key");
  }
}

TEST_CASE("the OpenWhisk switches are off unless a flag or its environment variable turns them on", "[options]") {
  env_guard env;
  CHECK_FALSE(run({}).openwhisk_cron_months);
  CHECK_FALSE(run({}).limit_cron_fields);
  CHECK(run({"--openwhisk-cron-months"}).openwhisk_cron_months);
  CHECK(run({"--limit-cron-fields"}).limit_cron_fields);
  env.set("FEEDROUTER_OPENWHISK_CRON_MONTHS", "true");
  env.set("FEEDROUTER_LIMIT_CRON_FIELDS", "1");
  auto opts = run({});
  CHECK(opts.openwhisk_cron_months);
  CHECK(opts.limit_cron_fields);
}

TEST_CASE("the import-openwhisk subcommand takes its source and the store flags", "[options]") {
  env_guard env;
  auto opts = run({"import-openwhisk", "--couchdb", "http://u:p@127.0.0.1:5984", "--db", "alarmservice", "--kind",
                   "alarms", "--disable-source", "--store", "sqlite:/x.db", "--api-host", "https://ow.example"});
  CHECK(opts.mode == run_mode::import_openwhisk);
  CHECK(opts.import.couchdb == "http://u:p@127.0.0.1:5984");
  CHECK(opts.import.db == "alarmservice");
  CHECK(opts.import.kind == openwhisk_provider_kind::alarms);
  CHECK(opts.import.disable_source);
  CHECK_FALSE(opts.import.dry_run);
  CHECK(opts.store == "sqlite:/x.db");
  CHECK(opts.api_host.host == "ow.example");
  auto dry = run({"import-openwhisk", "--couchdb", "http://h", "--db", "d", "--kind", "cloudant", "--dry-run"});
  CHECK(dry.import.kind == openwhisk_provider_kind::cloudant);
  CHECK(dry.import.dry_run);
}

TEST_CASE("import-openwhisk without its source, with an unknown kind or with both modes is a usage error",
          "[options]") {
  env_guard env;
  check_usage_error({"import-openwhisk", "--db", "d", "--kind", "alarms"}, "--couchdb");
  check_usage_error({"import-openwhisk", "--couchdb", "http://h", "--db", "d", "--kind", "kafka"}, "--kind");
  check_usage_error({"import-openwhisk", "--couchdb", "http://h", "--db", "d", "--kind", "alarms", "--dry-run",
                     "--disable-source"},
                    "--disable-source");
  check_usage_error({"--check-store", "import-openwhisk", "--couchdb", "http://h", "--db", "d", "--kind", "alarms"},
                    "--check-store");
}

TEST_CASE("the --check-store flag with rotate-key, or an unknown subcommand, is a usage error", "[options]") {
  env_guard env;
  check_usage_error({"--check-store", "rotate-key"}, "--check-store");
  check_usage_error({"rotate-keys"}, "rotate-keys");
  check_usage_error({"rotate-key", "now"}, "now");
}

TEST_CASE("the --log-format flag and FEEDROUTER_LOG_FORMAT choose text or json, text by default", "[options]") {
  env_guard env;
  CHECK(run({}).format == log_format::text);
  CHECK(run({"--log-format", "json"}).format == log_format::json);
  env.set("FEEDROUTER_LOG_FORMAT", "json");
  CHECK(run({}).format == log_format::json);
  CHECK(run({"--log-format", "text"}).format == log_format::text);
}

TEST_CASE("an unknown --log-format is a usage error naming --log-format", "[options]") {
  env_guard env;
  check_usage_error({"--log-format", "xml"}, "--log-format");
}

TEST_CASE("the check-config subcommand takes the service's flags and a --config file", "[options]") {
  env_guard env;
  auto opts = run({"check-config", "--config", "/etc/feedrouter/feedrouter.conf", "--store", "sqlite:/x.db"});
  CHECK(opts.mode == run_mode::check_config);
  CHECK(opts.config_file == "/etc/feedrouter/feedrouter.conf");
  CHECK(opts.store == "sqlite:/x.db");
  check_usage_error({"--check-store", "check-config"}, "--check-store");
}

TEST_CASE("the options name every FEEDROUTER_* variable a flag reads", "[options]") {
  env_guard env;
  auto names = run({}).environment_names;
  for (const auto* name : {"FEEDROUTER_LISTEN", "FEEDROUTER_STORE", "FEEDROUTER_LOG_FORMAT", "FEEDROUTER_CA_FILE"})
    CHECK(std::find(names.begin(), names.end(), name) != names.end());
  CHECK(std::all_of(names.begin(), names.end(), [](const auto& name) { return name.rfind("FEEDROUTER_", 0) == 0; }));
}

// -- --allow-egress ----------------------------------------------------------------------------------

TEST_CASE("without --allow-egress tenants get the default egress policy", "[options][egress]") {
  env_guard env;
  CHECK(run({}).allow_egress.empty());
}

TEST_CASE("the --allow-egress flag is repeatable and keeps its rules in order", "[options][egress]") {
  env_guard env;
  auto opts = run({"--allow-egress", "127.0.0.1", "--allow-egress=10.0.0.0/8", "--allow-egress", "db.internal:5984"});
  REQUIRE(opts.allow_egress.size() == 3);
  CHECK(opts.allow_egress[0].text == "127.0.0.1");
  REQUIRE(opts.allow_egress[1].network);
  CHECK(opts.allow_egress[1].network->to_string() == "10.0.0.0/8");
  CHECK(opts.allow_egress[2].host == "db.internal");
  CHECK(opts.allow_egress[2].port == 5984);
}

TEST_CASE("FEEDROUTER_ALLOW_EGRESS takes comma-separated rules", "[options][egress]") {
  env_guard env;
  env.set("FEEDROUTER_ALLOW_EGRESS", "127.0.0.1, [::1]:5984,fd00::/8");
  auto opts = run({});
  REQUIRE(opts.allow_egress.size() == 3);
  CHECK(opts.allow_egress[0].text == "127.0.0.1");
  CHECK(opts.allow_egress[1].text == "[::1]:5984");
  CHECK(opts.allow_egress[2].text == "fd00::/8");
}

TEST_CASE("an invalid --allow-egress is a usage error naming the flag and the value", "[options][egress]") {
  env_guard env;
  for (const auto* value : {"127.1", "10.1.0.0/8", "127.0.0.1:0", "[::1", "::ffff:10.0.0.1"}) {
    INFO(value);
    check_usage_error({"--allow-egress", value}, "--allow-egress");
    CHECK_THAT(exit_with({"--allow-egress", value}).text, Contains(std::string{"'"} + value + "'"));
  }
}

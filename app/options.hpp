#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/egress_policy.hpp"
#include "core/log.hpp"
#include "core/url.hpp"

namespace feedrouter {

/// What the command line asks the program to do.
enum class run_mode {
  serve,            ///< run the service
  check_store,      ///< --check-store: open the store with a full integrity check, then exit 0 (sound) or 2
  rotate_key,       ///< rotate-key: seal the store's secrets under a new key, then exit
  migrate,          ///< migrate: copy a store's registrations into another store, then exit
  check_config,     ///< check-config: check the settings and the store, print one line per problem, exit 0 or 2
  import_openwhisk, ///< import-openwhisk: create the registrations an OpenWhisk provider keeps, then exit
};

/// Which OpenWhisk provider's trigger documents import-openwhisk reads.
enum class openwhisk_provider_kind { alarms, cloudant };

/// What import-openwhisk is asked to do (docs/migrating-from-openwhisk.md).
struct import_request {
  std::string couchdb;   ///< --couchdb: the provider's CouchDB, http(s)://[user:password@]host[:port]
  std::string db;        ///< --db: the provider's database, e.g. "alarmservice"
  openwhisk_provider_kind kind = openwhisk_provider_kind::alarms;
  bool dry_run = false;        ///< report what would happen, write nothing anywhere
  bool disable_source = false; ///< mark each imported document inactive in the provider's database
};

/// The service's settings, from flags or their environment variables (flags win).
struct options {
  run_mode mode = run_mode::serve;
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  url api_host;                                 ///< OpenWhisk API base URL
  std::string store = "sqlite:./feedrouter.db"; ///< where registrations are kept
  std::string store_password_file;              ///< PostgreSQL: file whose first line is the password
  std::string migrate_from;                     ///< migrate: the store copied from
  std::string migrate_to;                       ///< migrate: the store copied into
  std::string secrets_key_file;                 ///< key that seals the store's secrets; empty: PATH.key beside it
  bool init_store = false;                      ///< accept an existing empty store file as a new store
  bool verify_auth = true;                      ///< check each CREATE's authKey with the controller
  log_level level = log_level::info;
  log_format format = log_format::text;         ///< how log lines are written (--log-format)
  std::string config_file;                      ///< check-config --config: an environment file to check and apply
  std::vector<std::string> environment_names;   ///< every FEEDROUTER_* variable a flag reads (check-config)
  std::size_t body_limit = 1024 * 1024;         ///< largest request body the API accepts
  std::string public_url;                       ///< base of hook URLs; empty: http://HOST:PORT the server listens on
  std::chrono::milliseconds fire_timeout{10'000};
  int retry_attempts = 10;                      ///< attempts per fire before its events go to dead letters
  std::chrono::milliseconds retry_max_age{3'600'000}; ///< events older than this are not retried
  double namespace_fire_rate = 0;               ///< fires per second per namespace; 0 means unlimited
  std::size_t max_buffered_events = 1000;       ///< events one registration holds pending, in memory or the store
  std::size_t max_buffered_bytes = 0;           ///< bytes of event bodies all registrations hold in memory
  std::size_t max_registrations_per_namespace = 10'000; ///< registrations one namespace may have
  std::size_t fire_window = 1;                  ///< fires of one registration on the wire at once
  std::size_t max_kafka_feeds = 200;            ///< kafka registrations reading at once (each runs librdkafka threads)
  std::size_t max_redis_feeds = 1000;           ///< Redis connections open at once (redis-stream feeds)
  std::size_t max_mqtt_feeds = 1000;            ///< MQTT connections open at once (mqtt feeds)
  std::chrono::milliseconds shutdown_grace{10'000}; ///< how long SIGTERM waits for fires in flight
  std::string ca_file;                          ///< PEM bundle that verifies an https API host; empty: system store
  bool insecure_skip_verify = false;            ///< accept any certificate (self-signed development controllers)
  std::vector<egress_rule> allow_egress;        ///< destinations tenants may reach beyond the default egress policy
  import_request import;                        ///< import-openwhisk's own options
  bool openwhisk_cron_months = false;           ///< feed-action alarms number cron months 0-11 (fixed at CREATE)
  bool limit_cron_fields = false;               ///< alarm crons may not have a seconds field other than 0
  std::chrono::milliseconds lease_ttl{10'000};  ///< cluster: how long a shard lease lasts unrenewed
  std::string advertise_url;                    ///< cluster: where the others forward requests; empty: public URL
  std::string admin_key_file;                   ///< file with the key of the admin routes; empty: no admin routes
};

/// What the command line asks for: run with options, or print text (help, version) and exit with a code.
struct exit_request {
  int code;
  std::string text;
};

/// Parses the command line and the FEEDROUTER_* environment variables. Invalid input yields exit code 2 and one line
/// naming the flag.
std::variant<options, exit_request> parse_options(int argc, char** argv);

} // namespace feedrouter

// feedrouter: the OpenWhisk feed provider service. See README.md for the flags and docs/ for the API.

#include <atomic>
#include <csignal>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <thread>

#include <malloc.h>
#include <pthread.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/cluster_info.hpp"
#include "actors/controller_client.hpp"
#include "actors/github_hooks.hpp"
#include "actors/lease_manager.hpp"
#include "actors/registry.hpp"
#include "actors/shard_runner.hpp"
#include "actors/store_actor.hpp"
#include "actors/timer_wheel.hpp"
#include "actors/store_reader.hpp"
#include "app/admin_key.hpp"
#include "app/check_config.hpp"
#include "app/control_api.hpp"
#include "app/liveness_watchdog.hpp"
#include "app/openwhisk_import.hpp"
#include "app/options.hpp"
#include "app/routes.hpp"
#include "app/shutdown.hpp"
#include "app/store_check.hpp"
#include "app/systemd_notify.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/status_json.hpp"
#include "net/host_addresses.hpp"
#include "net/http_server.hpp"
#include "net/io_runtime.hpp"
#include "net/mqtt_client.hpp"
#include "net/redis_client.hpp"
#include "store/key_rotation.hpp"
#include "store/lease_store.hpp"
#include "store/store.hpp"
#include "store/store_health.hpp"
#include "store/store_migration.hpp"

namespace {

using namespace feedrouter;

constexpr int start_error = 2;

/// How long the API waits for the registry before answering 503.
constexpr std::chrono::seconds api_timeout{30};

/// How long the registry waits for the controller, the store or a trigger actor.
constexpr std::chrono::seconds registry_timeout{15};

/// How long one request to GitHub's API may take: a hook task of the usual three requests (create or adopt, list,
/// update) then ends within the registry's patience.
constexpr std::chrono::seconds github_request_timeout{4};

/// A namespace may fire this many times at once beyond its rate before the limit spaces its fires.
constexpr double namespace_burst_seconds = 1.0;

/// Returns how many threads run network I/O: one per two cores, with the actors on the same cores. Two I/O threads on
/// 2 cores handed each exchange from one to the other (the thread in epoll_wait wakes the one waiting for handlers):
/// 15 context switches per alarm fire instead of 9, and 156 ms of CPU per 1000 fires instead of 128, with the same
/// webhook throughput.
std::size_t io_threads() {
  constexpr std::size_t cores_per_io_thread = 2;
  return std::max<std::size_t>(1, std::thread::hardware_concurrency() / cores_per_io_thread);
}

/// Connections to the controller that lifecycle requests (the authKey checks of CREATE) have to themselves. Fires
/// queue by the thousand for the pool of the controller's origin when it is slow; a check queued behind them waited
/// for all of them (docs/operations.md, "The lifecycle API under load").
constexpr std::size_t control_connections = 8;

/// How often the store actor looks at the store file between writes, so that a deleted or replaced file turns /ready
/// to 503 soon even while nothing is written (a write looks at it anyway).
constexpr std::chrono::seconds store_watch_interval{1};

/// How long a status update (a fire's counters, a change of state) may wait in the store actor for others to share its
/// commit: 50 ms turns 1667 commits a second (100 000 minute alarms) into 20. A kill -9 may lose the last 50 ms of
/// status updates, as it could lose the one in flight before; never an event, a dead letter, a checkpoint or an
/// alarm's maxTriggers count, which are written with an answer that waits for their commit.
constexpr std::chrono::milliseconds status_commit_delay{50};

/// How long a write no fire waits for (a webhook event's put, made beside its fire; the erase after a fire) may wait
/// for others to share its commit: one transaction per batch instead of one per write, and an event fired before its
/// put was committed is never written (no INSERT, no DELETE). Each write still wakes the store's thread to queue it. A sender waits for it only when the
/// fire has no answer sooner; a kill -9 may fire again what was fired within it (rule 5.5). 2 ms against 0: p99 event
/// to fire at half load 1.7-2.2 ms instead of 3.8-7.2 ms in the same quick runs (bench/run --only latency).
constexpr std::chrono::milliseconds event_commit_delay{2};

/// How often the timer wheel wakes at most: alarm occurrences that fall due within 5 ms of each other are fired
/// together, up to 5 ms late. With 100 000 minute alarms (1667 fires a second, 0.6 ms apart) a wake-up per occurrence
/// cost about 10 thread hand-offs per fire (the clock's thread, a worker, the I/O thread, the store's thread); in
/// batches of about 8 it is 3.5, and the CPU per 1000 fires about half (215 -> 69..103 ms with 20 000 alarms every
/// 12 s). Timers further apart than that fire on time.
constexpr std::chrono::milliseconds timer_wheel_quantum{5};

/// Random bytes in an instance's id: ids only need to differ among the instances that ever share a store.
constexpr std::size_t instance_id_bytes = 8;

/// Cluster mode: the lease store and its listener, opened before the actors start.
struct cluster_sessions {
  lease_store_ptr leases;
  lease_listener_ptr listener;
};

/// Cluster mode: the actors that hold the leases and run the shards, and what the control API needs of them.
struct cluster_parts {
  lease_manager_actor lease_manager;
  shard_runner_actor runner;
  store_reader_actor reader;
  cluster_routing routing;
};

/// Spawns the lease manager, the shard runner and the store reader of a cluster's instance.
cluster_parts start_cluster(caf::actor_system& sys, cluster_sessions sessions, const options& opts,
                            const std::string& instance_id, registry_actor registry, store_actor store,
                            std::shared_ptr<fire_fence> fence, const registry_config& reg_cfg, http_client_ptr client,
                            const secrets_key& key) {
  lease_timing timing{opts.lease_ttl};
  auto view = std::make_shared<cluster_view>(instance_id);
  auto stats = std::make_shared<cluster_metrics>();
  auto runner = spawn_shard_runner(sys, {registry, store, view, registry_timeout});
  auto lease_manager = spawn_lease_manager(sys, {std::move(sessions.leases), std::move(sessions.listener), timing,
                                                 runner, fence, view, stats, reg_cfg.env->namespace_limiter});
  auto reader = spawn_store_reader(sys, {store, reg_cfg.hash_key, reg_cfg.env->public_url, registry_timeout});
  cluster_routing routing{view,   fence,  lease_manager, reader, reg_cfg.controller, std::move(client),
                          key.forwarding_key(), stats, timing};
  return {lease_manager, runner, reader, std::move(routing)};
}

/// --check-store: opens the store as a start would, with SQLite's full integrity check, and reads it whole.
int check_store(const options& opts) {
  auto verdict = check_store_soundness(opts);
  if (verdict.what != store_verdict::kind::sound) {
    std::cerr << "feedrouter: " << verdict.line << std::endl;
    return start_error;
  }
  std::cout << verdict.line << std::endl;
  return 0;
}

/// rotate-key: seals the store's secrets under a new key and tells the operator what follows.
int rotate_key(const options& opts) {
  try {
    auto done = rotate_secrets_key(opts.store, store_options_of(opts));
    std::cout << "store '" << store_display_name(opts.store) << "': " << done.resealed
              << " registrations sealed with the new key " << done.new_id << ", now in '" << done.key_file << "'\n"
              << "the old key " << done.old_id << " is kept in '" << done.retired_file
              << "': store backups made before now need it; delete it once none of them is kept\n"
              << "copy '" << done.key_file << "' to every instance that uses this store before starting them"
              << std::endl;
    return 0;
  } catch (const store_open_error& e) {
    std::cerr << "feedrouter: " << e.what() << std::endl;
    return start_error;
  }
}

/// migrate: copies one store's registrations into another and says what it copied.
int migrate(const options& opts) {
  try {
    auto done = migrate_store(opts.migrate_from, opts.migrate_to, store_options_of(opts));
    std::cout << "migrated " << done.registrations << " registrations, " << done.pending_events
              << " pending events, " << done.dead_letters << " dead letters and " << done.checkpoints
              << " checkpoints from '" << store_display_name(opts.migrate_from) << "' to '"
              << store_display_name(opts.migrate_to) << "'" << std::endl;
    return 0;
  } catch (const store_open_error& e) {
    std::cerr << "feedrouter: " << e.what() << std::endl;
    return start_error;
  }
}

/// Sizes CAF's scheduler to the machine rather than CAF's default of at least 4 threads, and makes idle workers sleep
/// sooner: on 2 cores, spinning workers steal CPU time from the I/O threads that do the firing. An idle worker polls a
/// few times, then sleeps on its condition variable, which an enqueue wakes. It skips CAF's moderate phase (polls
/// 50 us apart): work that arrives a few hundred microseconds apart (1667 alarm fires/s) kept both workers polling in
/// that phase, about 20 000 sleeps and wake-ups a second each, which cost more CPU than the fires (196 ms per 1000
/// fires of 20 000 alarms against 125 ms without it).
void configure_scheduler(caf::actor_system_config& cfg) {
  constexpr std::size_t min_threads = 2;
  auto threads = std::max<std::size_t>(min_threads, std::thread::hardware_concurrency());
  cfg.set("scheduler.max-threads", static_cast<int64_t>(threads));
  constexpr int64_t aggressive_poll_attempts = 10;
  constexpr int64_t moderate_poll_attempts = 0;
  cfg.set("work-stealing.aggressive-poll-attempts", aggressive_poll_attempts);
  cfg.set("work-stealing.moderate-poll-attempts", moderate_poll_attempts);
}

/// Blocks SIGINT and SIGTERM in every thread (threads inherit the mask), so that main can wait for them with sigwait.
sigset_t block_shutdown_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

/// Returns the egress policy for tenants' endpoints: the default one, widened by --allow-egress, and closed to this
/// provider's own listen address at `port` (the one it actually listens on, also for --listen HOST:0).
std::shared_ptr<const egress_policy> make_egress_policy(const options& opts, std::uint16_t port) {
  auto listen = resolve_host_addresses(opts.listen_host);
  auto provider = provider_endpoints(listen, port, interface_addresses());
  for (const auto& rule : opts.allow_egress)
    log(log_level::info, "egress: tenants' endpoints may also reach ", rule.text);
  return std::make_shared<const egress_policy>(opts.allow_egress, std::move(provider));
}

std::shared_ptr<trigger_env> make_env(const options& opts, http_client_ptr client, mqtt_connector_ptr mqtt,
                                      redis_connector_ptr redis, store_actor store, std::shared_ptr<metrics> stats,
                                      std::string public_url,
                                      std::shared_ptr<const egress_policy> egress) {
  auto env = std::make_shared<trigger_env>();
  env->client = std::move(client);
  // Kafka brokers are checked by the same egress policy as HTTP endpoints. They are tenants' endpoints: their TLS is
  // verified against the system's store, never with --ca-file or --insecure-skip-verify (the controller's options).
  kafka_connector_options kafka_opts;
  kafka_opts.egress = egress;
  kafka_opts.max_consumers = opts.max_kafka_feeds;
  auto kafka = make_kafka_connector(std::move(kafka_opts));
  env->egress = std::move(egress);
  env->api_host = opts.api_host;
  env->store = std::move(store);
  env->stats = std::move(stats);
  env->now = now_ms;
  env->spawn_source = default_source_spawner(env->client, kafka, mqtt, redis);
  env->prepare_source = default_source_preparer(env->client, kafka, std::move(mqtt), std::move(redis));
  env->fire_timeout = opts.fire_timeout;
  env->retries.max_attempts = opts.retry_attempts;
  env->retries.max_age = opts.retry_max_age;
  if (opts.namespace_fire_rate > 0)
    env->namespace_limiter = std::make_shared<rate_limiter>(
      opts.namespace_fire_rate, std::max(1.0, opts.namespace_fire_rate * namespace_burst_seconds));
  env->max_buffered_events = opts.max_buffered_events;
  env->budget = std::make_shared<byte_budget>(byte_budget::limits_for(opts.max_buffered_bytes));
  env->fire_window = opts.fire_window;
  // Jitter needs no cryptographic quality; one generator per process, used from actor threads, so guard it.
  auto generator = std::make_shared<std::pair<std::mutex, std::mt19937_64>>();
  generator->second.seed(std::random_device{}());
  env->random = [generator] {
    std::lock_guard<std::mutex> guard{generator->first};
    return generator->second();
  };
  env->public_url = std::move(public_url);
  return env;
}

int run(const options& opts, const sigset_t& signals) {
  // A PostgreSQL store is shared: this instance runs the shards whose leases it holds (docs/cluster.md).
  auto cluster = is_shared_store(opts.store);
  auto instance_id = random_hex(instance_id_bytes);
  auto store_opts = store_options_of(opts);
  if (cluster)
    store_opts.instance_id = instance_id;
  std::string admin_key;
  if (!opts.admin_key_file.empty()) {
    try {
      admin_key = read_admin_key_file(opts.admin_key_file);
    } catch (const std::runtime_error& e) {
      std::cerr << "feedrouter: --admin-key-file: " << e.what() << std::endl;
      return start_error;
    }
  }
  store_ptr db;
  std::shared_ptr<const secrets_key> key;
  std::vector<registration_record> records;
  try {
    auto opened = open_store(opts.store, store_opts);
    key = opened->key();
    // In a cluster the shard runner loads the shards as their leases are acquired.
    if (!cluster)
      records = opened->load_all();
    db = std::move(opened);
  } catch (const store_open_error& e) {
    std::cerr << "feedrouter: " << e.what() << std::endl;
    return start_error;
  }
  // Declared before the actor system, so it is destroyed after it: actors hold the HTTP client, whose sockets belong
  // to the io_context and are closed when the last actor lets go of the client.
  io_runtime io{io_threads()};
  // The server listens before the actors start, so a taken port fails fast; until the API is ready it answers 503.
  std::atomic<control_api*> api_ptr{nullptr};
  http_server_ptr server;
  try {
    http_server::options server_opts;
    server_opts.host = opts.listen_host;
    server_opts.port = opts.listen_port;
    server_opts.body_limit = opts.body_limit;
    // Requests the server refuses on its own get the API's JSON error body, like every other error.
    server_opts.render_error = [](int status, std::string_view message, std::string_view field) {
      return json_response(status, render_error(message, field));
    };
    server = start_http_server(io, server_opts, [&api_ptr](http_request req, http_server::responder respond) {
      if (auto* api = api_ptr.load())
        api->handle(std::move(req), std::move(respond));
      else
        control_api::handle_before_start(req, std::move(respond));
    });
  } catch (const std::exception& e) {
    std::cerr << "feedrouter: " << e.what() << std::endl;
    io.stop();
    return start_error;
  }
  auto listen_url = "http://" + opts.listen_host + ':' + std::to_string(server->port());
  auto public_url = opts.public_url.empty() ? listen_url : opts.public_url;
  auto advertise_url = opts.advertise_url.empty() ? public_url : opts.advertise_url;
  cluster_sessions sessions;
  if (cluster) {
    try {
      sessions.leases = open_lease_store(opts.store, store_opts, {instance_id, advertise_url, {opts.lease_ttl}});
      sessions.listener = open_lease_listener(opts.store, store_opts);
    } catch (const store_open_error& e) {
      std::cerr << "feedrouter: " << e.what() << std::endl;
      server->stop();
      io.stop();
      return start_error;
    }
  }
  caf::actor_system_config cfg;
  configure_scheduler(cfg);
  caf::actor_system sys{cfg};
  auto egress = make_egress_policy(opts, server->port());
  http_client_options client_opts;
  client_opts.ca_file = opts.ca_file;
  client_opts.insecure_skip_verify = opts.insecure_skip_verify;
  client_opts.egress = egress;
  http_client_ptr client;
  http_client_ptr control_client;
  mqtt_connector_ptr mqtt;
  redis_connector_ptr redis;
  try {
    client = make_http_client(io, client_opts);
    auto control_opts = client_opts;
    control_opts.max_connections_per_origin = control_connections;
    control_client = make_http_client(io, control_opts);
    // MQTT brokers are checked by the same egress policy as HTTP endpoints. They are tenants' endpoints: mqtts is
    // verified against the system's store, never with --ca-file or --insecure-skip-verify (the controller's options).
    mqtt_connector_options mqtt_opts;
    mqtt_opts.egress = egress;
    mqtt_opts.max_connections = opts.max_mqtt_feeds;
    mqtt = make_mqtt_connector(io, std::move(mqtt_opts));
    // Redis servers likewise: tenants' endpoints, checked by the egress policy, rediss verified against the system's
    // store; their connections live on the same I/O threads as HTTP's.
    redis_connector_options redis_opts;
    redis_opts.egress = egress;
    redis_opts.max_connections = opts.max_redis_feeds;
    redis = make_redis_connector(io, std::move(redis_opts));
  } catch (const std::exception& e) {
    std::cerr << "feedrouter: --ca-file: " << e.what() << std::endl;
    server->stop();
    io.stop();
    return start_error;
  }
  auto stats = std::make_shared<metrics>();
  auto health = std::make_shared<store_health>();
  auto store = spawn_store_actor(sys, std::move(db), store_thread::dedicated,
                                 {health, store_watch_interval, stats, status_commit_delay, event_commit_delay});
  auto env = make_env(opts, client, std::move(mqtt), std::move(redis), store, stats, public_url, egress);
  env->timers = spawn_timer_wheel(sys, timer_wheel_quantum);
  auto fence = std::make_shared<fire_fence>();
  if (cluster)
    env->fence = fence;
  registry_config reg_cfg;
  reg_cfg.cluster = cluster;
  reg_cfg.env = env;
  reg_cfg.request_timeout = registry_timeout;
  reg_cfg.max_registrations_per_namespace = opts.max_registrations_per_namespace;
  reg_cfg.hash_key = [key](std::string_view auth_key) { return key->hash_auth_key(auth_key); };
  // Also what deletes triggers for deleteAfterFire, with or without --no-verify-auth.
  env->controller = spawn_controller_client(sys, client, opts.api_host, registry_timeout);
  if (opts.verify_auth)
    // The authKey checks of CREATEs on connections of their own, so that they never wait behind fires.
    reg_cfg.controller = spawn_controller_client(sys, control_client, opts.api_host, registry_timeout);
  // Each request to GitHub's API goes through the tenants' egress policy, like a poll's, and on the control
  // connections: a CREATE's hook does not wait behind fires.
  reg_cfg.github_hooks = spawn_github_hooks(sys, control_client, github_request_timeout);
  auto loaded = records.size();
  auto registry = spawn_registry(sys, reg_cfg, std::move(records));
  std::optional<cluster_parts> parts;
  if (cluster)
    parts = start_cluster(sys, std::move(sessions), opts, instance_id, registry, store, fence, reg_cfg, client, *key);
  auto info = spawn_cluster_info(sys, {reg_cfg.controller,
                                       parts ? std::optional<lease_manager_actor>{parts->lease_manager} : std::nullopt,
                                       instance_id, advertise_url, now_ms(), stats, registry_timeout});
  auto admin_routes_on = !admin_key.empty();
  control_api api{sys,
                  registry,
                  stats,
                  api_timeout,
                  health,
                  feed_defaults{opts.openwhisk_cron_months, opts.limit_cron_fields},
                  env->budget,
                  std::move(admin_key),
                  info,
                  parts ? std::optional<cluster_routing>{parts->routing} : std::nullopt};
  api_ptr.store(&api);
  // Tests and scripts read this line to learn the port; it is the only line written to stdout.
  std::cout << "feedrouter listening on " << listen_url << std::endl;
  caf::scoped_actor self{sys};
  self->request(registry, caf::infinite, ready_atom::value)
    .receive([&](std::size_t) { api.set_ready(); }, [](caf::error&) {});
  auto budget_text = "; event bodies held in memory up to " + std::to_string(opts.max_buffered_bytes / (1024 * 1024))
                     + " MiB" + (admin_routes_on ? "; admin routes on" : "");
  if (cluster)
    log(log_level::info, "joined the cluster on ", store_display_name(opts.store), " as instance ", instance_id,
        " (advertised at ", advertise_url, ", lease TTL ", opts.lease_ttl.count(), " ms; secrets key ", key->id(),
        "); firing at ", opts.api_host.origin(), opts.verify_auth ? "" : " (authKeys not verified)", budget_text,
        admin_routes_on ? " (refused in cluster mode: 501)" : "");
  else
    log(log_level::info, "ready: ", loaded, " registrations running from ", store_display_name(opts.store),
        " (secrets key ", key->id(), " from '", secrets_key_file_of(opts.store, store_options_of(opts)),
        "'); firing at ", opts.api_host.origin(), opts.verify_auth ? "" : " (authKeys not verified)", budget_text);
  if (parts)
    // An instance is up once its lease manager had its first look at the leases: /ready then says whether the shards
    // it took are running yet.
    self->request(parts->lease_manager, opts.lease_ttl, cluster_atom::value)
      .receive([](cluster_report&) {}, [](caf::error&) {});
  // systemd (Type=notify) starts what depends on the service once /ready answers 200, and from then on expects the
  // watchdog to be fed while the actors answer. A cluster's instance is up even while the shards it just took are
  // starting.
  if (api.ready() || parts)
    notify_ready("ready: " + std::to_string(loaded) + " registrations, listening on " + listen_url);
  std::optional<liveness_watchdog> watchdog;
  if (auto interval = watchdog_interval())
    watchdog.emplace(*interval, registry_probe(sys, registry), notify_watchdog);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  log(log_level::info, "shutting down on signal ", signal_number);
  notify_stopping("shutting down on signal " + std::to_string(signal_number));
  watchdog.reset();
  server->stop();
  // The grace is for the fires already on the wire: a registration with a backlog would otherwise start the next fire
  // as soon as one is answered, and the wait would last the whole grace.
  stats->stop_fires();
  wait_for_fires_in_flight(*stats, opts.shutdown_grace);
  if (parts) {
    // Hands every shard over at once rather than after the TTL: their triggers stop, their writes are flushed, then
    // the leases are released and the other instances notified.
    self->request(parts->lease_manager, opts.shutdown_grace, leave_atom::value)
      .receive([](std::size_t released) { log(log_level::info, "cluster: released ", released, " shard(s)"); },
               [](caf::error& err) {
                 log(log_level::warn, "cluster: could not release every shard (they expire by themselves): ",
                     caf::to_string(err));
               });
    self->send_exit(parts->lease_manager, caf::exit_reason::user_shutdown);
    self->send_exit(parts->runner, caf::exit_reason::user_shutdown);
    self->send_exit(parts->reader, caf::exit_reason::user_shutdown);
  }
  self->send_exit(info, caf::exit_reason::user_shutdown);
  self->send_exit(registry, caf::exit_reason::user_shutdown);
  self->request(store, caf::infinite, flush_atom::value).receive([](commit_atom) {}, [](caf::error&) {});
  arm_exit_watchdog(opts.shutdown_grace);
  // The store closes once its actor is down; the registrations' actors are not waited for (end_process).
  self->monitor(store);
  self->send_exit(store, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {});
  io.stop();
  end_process();
}

} // namespace

int main(int argc, char** argv) {
  // Each registration takes a few KiB from the heap of the thread that starts it: glibc grew each thread's heap by
  // 128 KiB at a time (an mprotect call each, about 9 % of the start-up CPU with 100 000 registrations). Growing it
  // 16 MiB at a time costs no memory until it is used.
  constexpr int heap_growth = 16 << 20;
  mallopt(M_TOP_PAD, heap_growth);
  auto parsed = parse_options(argc, argv);
  if (auto* exit = std::get_if<exit_request>(&parsed)) {
    (exit->code == 0 ? std::cout : std::cerr) << exit->text << std::endl;
    return exit->code;
  }
  const auto& opts = std::get<options>(parsed);
  set_log_level(opts.level);
  set_log_format(opts.format);
  switch (opts.mode) {
    case run_mode::check_config:
      return run_check_config(argc, argv, opts, std::cout, std::cerr);
    case run_mode::check_store:
      return check_store(opts);
    case run_mode::rotate_key:
      return rotate_key(opts);
    case run_mode::migrate:
      return migrate(opts);
    case run_mode::import_openwhisk:
      return import_openwhisk(opts, std::cout, std::cerr);
    case run_mode::serve:
      break;
  }
  auto signals = block_shutdown_signals();
  return run(opts, signals);
}

// feedrouter: the OpenWhisk feed provider service. See README.md for the flags and docs/ for the API.

#include <csignal>
#include <iostream>
#include <memory>

#include <pthread.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/controller_client.hpp"
#include "actors/registry.hpp"
#include "actors/store_actor.hpp"
#include "app/control_api.hpp"
#include "app/options.hpp"
#include "core/log.hpp"
#include "net/http_server.hpp"
#include "net/io_runtime.hpp"
#include "store/store.hpp"

namespace {

using namespace feedrouter;

constexpr int start_error = 2;

/// How long the API waits for the registry before answering 503.
constexpr std::chrono::seconds api_timeout{30};

/// How long the registry waits for the controller, the store or a trigger actor.
constexpr std::chrono::seconds registry_timeout{15};

/// Blocks SIGINT and SIGTERM in every thread (threads inherit the mask), so that main can wait for them with sigwait.
sigset_t block_shutdown_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int run(const options& opts, const sigset_t& signals) {
  store_ptr db;
  std::vector<registration_record> records;
  try {
    db = open_store(opts.store);
    records = db->load_all();
  } catch (const store_open_error& e) {
    std::cerr << "feedrouter: " << e.what() << std::endl;
    return start_error;
  }
  // Declared before the actor system, so it is destroyed after it: actors hold the HTTP client, whose sockets belong
  // to the io_context and are closed when the last actor lets go of the client.
  io_runtime io{1};
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto client = make_http_client(io);
  auto stats = std::make_shared<metrics>();
  auto store = spawn_store_actor(sys, std::move(db), store_thread::dedicated);
  auto env = std::make_shared<trigger_env>();
  env->client = client;
  env->api_host = opts.api_host;
  env->store = store;
  env->stats = stats;
  env->now = now_ms;
  env->spawn_source = default_source_spawner(now_ms);
  registry_config reg_cfg;
  reg_cfg.env = env;
  reg_cfg.request_timeout = registry_timeout;
  if (opts.verify_auth)
    reg_cfg.controller = spawn_controller_client(sys, client, opts.api_host, registry_timeout);
  auto loaded = records.size();
  auto registry = spawn_registry(sys, reg_cfg, std::move(records));
  control_api api{sys, registry, stats, api_timeout};
  caf::scoped_actor self{sys};
  auto stop_actors = [&] {
    self->send_exit(registry, caf::exit_reason::user_shutdown);
    self->request(store, caf::infinite, flush_atom::value).receive([](commit_atom) {}, [](caf::error&) {});
    self->send_exit(store, caf::exit_reason::user_shutdown);
    if (reg_cfg.controller)
      self->send_exit(*reg_cfg.controller, caf::exit_reason::user_shutdown);
  };
  http_server_ptr server;
  try {
    http_server::options server_opts;
    server_opts.host = opts.listen_host;
    server_opts.port = opts.listen_port;
    server_opts.body_limit = opts.body_limit;
    server = start_http_server(io, server_opts,
                               [&api](http_request req, http_server::responder respond) {
                                 api.handle(std::move(req), std::move(respond));
                               });
  } catch (const std::exception& e) {
    std::cerr << "feedrouter: " << e.what() << std::endl;
    stop_actors();
    io.stop();
    return start_error;
  }
  // Tests and scripts read this line to learn the port; it is the only line written to stdout.
  std::cout << "feedrouter listening on http://" << opts.listen_host << ':' << server->port() << std::endl;
  self->request(registry, caf::infinite, ready_atom::value)
    .receive([&](std::size_t count) { api.set_ready(count); }, [](caf::error&) {});
  log(log_level::info, "ready: ", loaded, " registrations running from ", opts.store, "; firing at ",
      opts.api_host.origin(), opts.verify_auth ? "" : " (authKeys not verified)");
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  log(log_level::info, "shutting down on signal ", signal_number);
  server->stop();
  stop_actors();
  io.stop();
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (auto* exit = std::get_if<exit_request>(&parsed)) {
    (exit->code == 0 ? std::cout : std::cerr) << exit->text << std::endl;
    return exit->code;
  }
  const auto& opts = std::get<options>(parsed);
  set_log_level(opts.level);
  auto signals = block_shutdown_signals();
  return run(opts, signals);
}

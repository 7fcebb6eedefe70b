#include "actor_fixture.hpp"

#include <algorithm>

#include <caf/atom.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/atoms.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/url.hpp"
#include "core/webhook_signature.hpp"

namespace feedrouter::test {

namespace {

/// A message only the stand-in parent's own behavior matches, so everything a child sends reaches its default handler.
using never_atom = caf::atom_constant<caf::atom("never")>;

} // namespace

// -- free functions -------------------------------------------------------------

api_reply reply_of(const api_result& result) {
  auto res = to_http(result);
  return {res.status, res.body, std::string{res.field("Retry-After")}};
}

sys_ms test_epoch() {
  static const auto epoch = *parse_iso8601("2026-01-01T00:00:00Z");
  return epoch;
}

url test_api_host() {
  return *parse_url("http://controller.test:3233", "api_host");
}

json_members params(std::string_view json) {
  auto parsed = parse_json_object(json, "params");
  if (!parsed)
    throw std::invalid_argument("test params are not a JSON object: " + parsed.error().message);
  return std::move(*parsed);
}

feed_config alarm_config(std::string_view params_json, sys_ms now, const trigger_ref& trigger) {
  auto config =
    make_feed_config("alarm", params(params_json), now, validation_time::request, trigger.key(), egress_policy{});
  if (!config)
    throw std::invalid_argument("test alarm params are invalid: " + config.error().field + ": "
                                + config.error().message);
  return std::move(*config);
}

registration_record make_record(const trigger_ref& trigger, std::string_view params_json, sys_ms now,
                                const std::string& auth_key) {
  auto config = alarm_config(params_json, now, trigger);
  registration_record record;
  record.trigger = trigger;
  record.feed = "alarm";
  record.params_json = to_json_object(config.params);
  record.auth_key = auth_key;
  record.auth_hash = sha256_hex(auth_key);
  record.created = now;
  record.status.date_changed = now;
  record.status.triggers_left = config.alarm->max_triggers;
  return record;
}

feed_config webhook_config(std::string_view params_json, sys_ms now, const trigger_ref& trigger) {
  auto config =
    make_feed_config("webhook", params(params_json), now, validation_time::request, trigger.key(), egress_policy{});
  if (!config)
    throw std::invalid_argument("test webhook params are invalid: " + config.error().field + ": "
                                + config.error().message);
  return std::move(*config);
}

registration_record make_webhook_record(const trigger_ref& trigger, const std::string& hook_id,
                                        std::string_view params_json, sys_ms now, const std::string& auth_key) {
  auto members = params(params_json);
  members.emplace_back("hookId", "\"" + hook_id + "\"");
  members.emplace_back("secret", "\"" + test_secret + "\"");
  auto config = webhook_config(to_json_object(members), now, trigger);
  registration_record record;
  record.trigger = trigger;
  record.feed = "webhook";
  record.params_json = to_json_object(config.params);
  record.auth_key = auth_key;
  record.auth_hash = sha256_hex(auth_key);
  record.created = now;
  record.status.date_changed = now;
  return record;
}

api_command hook_command(const std::string& hook_id, std::string body, const std::string& secret,
                         http_fields fields) {
  api_command cmd;
  cmd.op = api_op::hook;
  cmd.hook_id = hook_id;
  fields.emplace_back("X-Hub-Signature-256", sign_hmac_sha256(secret, body));
  cmd.hook.headers = std::move(fields);
  cmd.hook.body = std::move(body);
  return cmd;
}

api_command command(api_op op, const trigger_ref& trigger, const std::string& auth_key, std::string_view params_json,
                    std::string feed) {
  api_command cmd;
  cmd.op = op;
  cmd.trigger = trigger;
  cmd.auth_key = auth_key;
  cmd.feed = std::move(feed);
  cmd.params = params(params_json);
  return cmd;
}

std::optional<std::string> json_at(std::string_view json, std::string_view path) {
  std::string current{json};
  while (!path.empty()) {
    auto dot = path.find('.');
    auto name = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    auto members = parse_json_object(current, "json");
    if (!members)
      return std::nullopt;
    const auto* raw = find_member(*members, name);
    if (raw == nullptr)
      return std::nullopt;
    current = *raw;
  }
  return current;
}

std::optional<std::string> json_string_at(std::string_view json, std::string_view path) {
  auto raw = json_at(json, path);
  return raw ? json_as_string(*raw) : std::nullopt;
}

std::optional<std::int64_t> json_int_at(std::string_view json, std::string_view path) {
  auto raw = json_at(json, path);
  return raw ? json_as_int(*raw) : std::nullopt;
}

std::vector<std::size_t> parent_log::find(caf::atom_value atom) const {
  std::vector<std::size_t> result;
  for (std::size_t i = 0; i < messages.size(); ++i)
    if (messages[i].match_element<caf::atom_value>(0) && messages[i].get_as<caf::atom_value>(0) == atom)
      result.push_back(i);
  return result;
}

// -- actor_fixture ------------------------------------------------------------------

caf::actor_system_config& actor_fixture::configure(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  return cfg;
}

actor_fixture::actor_fixture()
  : sys(configure(cfg)),
    sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
    start_(sched.clock().now()) {
  // Warnings about failing fires and crashing children are expected in these tests.
  set_log_level(log_level::error);
  sys.await_actors_before_shutdown(false);
  client = std::make_shared<fake_http_client>([this] { return now(); });
  journal = std::make_shared<store_journal>();
  journal->clock = [this] { return now(); };
  store = spawn_store_actor(sys, std::make_unique<fake_store>(journal), store_thread::scheduler);
  stats = std::make_shared<metrics>();
  env = std::make_shared<trigger_env>();
  env->client = client;
  env->api_host = test_api_host();
  env->store = store;
  env->timers = spawn_timer_wheel(sys);
  env->stats = stats;
  env->now = [this] { return now(); };
  env->spawn_source = default_source_spawner(env->client);
  env->prepare_source = default_source_preparer(env->client);
  env->restarts.max_restarts = 3;
  env->restarts.window = 60s;
  env->restarts.first_delay = 100ms;
  env->restarts.max_delay = 1s;
  // The delivery defaults of docs/architecture.md section 5, spelled out so that tests can rely on them.
  env->retries.first_delay = 500ms;
  env->retries.factor = 2.0;
  env->retries.max_delay = 60s;
  env->retries.max_attempts = 10;
  env->retries.max_age = 1h;
  env->random = [this] { return random_value; };
  env->public_url = test_public_url;
  run();
}

actor_fixture::~actor_fixture() {
  // Registries and parents first: their triggers and children go with them. The store last, so that what they
  // persisted on the way out still reaches it.
  for (auto& hdl : owned_)
    caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
  run();
  caf::anon_send_exit(store, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(env->timers, caf::exit_reason::user_shutdown);
  run();
  sched.clock().cancel_all();
  client->drop_unanswered();
}

sys_ms actor_fixture::now() const {
  return test_epoch() + std::chrono::duration_cast<std::chrono::milliseconds>(sched.clock().now() - start_);
}

void actor_fixture::run() {
  // advance_time(0) ships what fell due without moving time, e.g. a delayed_send with a zero delay.
  do {
    sched.run();
  } while (sched.advance_time(caf::timespan{0}) > 0);
}

void actor_fixture::run_all_but_actor(caf::abstract_actor* held) {
  auto other = [held](caf::resumable* job) { return dynamic_cast<caf::abstract_actor*>(job) != held; };
  for (;;) {
    auto job = std::find_if(sched.jobs.begin(), sched.jobs.end(), other);
    if (job == sched.jobs.end()) {
      if (sched.advance_time(caf::timespan{0}) == 0)
        return;
      continue;
    }
    // run_once() runs the job at the front.
    auto* next = *job;
    sched.jobs.erase(job);
    sched.jobs.push_front(next);
    sched.run_once();
  }
}

void actor_fixture::advance(caf::timespan total, caf::timespan step) {
  while (total > caf::timespan{0}) {
    auto delta = std::min(step, total);
    sched.advance_time(delta);
    run();
    total -= delta;
  }
}

void actor_fixture::advance_to(sys_ms when, caf::timespan step) {
  if (when > now())
    advance(std::chrono::duration_cast<caf::timespan>(when - now()), step);
}

void actor_fixture::stop_at_teardown(caf::actor hdl) {
  owned_.push_back(std::move(hdl));
}

caf::actor actor_fixture::spawn_parent(parent_log_ptr log,
                                       std::function<caf::actor(caf::event_based_actor*)> spawn_child) {
  auto parent = sys.spawn([this, log, spawn_child](caf::event_based_actor* self) -> caf::behavior {
    self->set_exit_handler([self, log](caf::exit_msg& msg) {
      // Exits of the child are facts to check; any other exit (the fixture's teardown) stops the parent.
      if (log->child && msg.source == log->child.address()) {
        log->exits.push_back(msg.reason);
        return;
      }
      // A monitored (unlinked) child would outlive the parent otherwise.
      if (log->child)
        self->send_exit(log->child, msg.reason);
      self->quit(msg.reason);
    });
    // Children that are monitored rather than linked (triggers) report their end this way.
    self->set_down_handler([log](caf::down_msg& msg) {
      if (log->child && msg.source == log->child.address())
        log->exits.push_back(msg.reason);
    });
    self->set_default_handler([this, log](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
      log->messages.push_back(x.copy_content_to_message());
      log->received.push_back(now());
      return caf::message{};
    });
    log->child = spawn_child(self);
    return {
      [](never_atom) {
        // nop
      },
    };
  });
  stop_at_teardown(parent);
  run();
  return parent;
}

registry_actor actor_fixture::spawn_registry(std::vector<registration_record> records,
                                             std::optional<controller_actor> controller,
                                             std::chrono::milliseconds request_timeout) {
  registry_config reg_cfg;
  reg_cfg.env = env;
  reg_cfg.controller = std::move(controller);
  reg_cfg.request_timeout = request_timeout;
  auto registry = feedrouter::spawn_registry(sys, std::move(reg_cfg), std::move(records));
  stop_at_teardown(caf::actor_cast<caf::actor>(registry));
  run();
  return registry;
}

api_reply actor_fixture::api(const registry_actor& registry, api_command cmd) {
  return reply_of(call<api_result>(registry, std::move(cmd)));
}

trigger_snapshot actor_fixture::snapshot(const caf::actor& trigger) {
  return call<trigger_snapshot>(trigger, snapshot_atom::value);
}

} // namespace feedrouter::test

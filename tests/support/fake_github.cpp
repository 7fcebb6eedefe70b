#include "tests/support/fake_github.hpp"

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "core/crypto.hpp"
#include "core/json.hpp"
#include "core/text.hpp"
#include "core/url.hpp"
#include "core/webhook_signature.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"

namespace feedrouter {

namespace {

constexpr std::size_t default_per_page = 30;
constexpr std::size_t max_per_page = 100;
/// How long a delivery waits for the receiver, as GitHub gives up after ten seconds.
constexpr std::chrono::seconds delivery_timeout{10};
constexpr std::int64_t first_hook_id = 12345678;
constexpr char docs_url[] = "https://docs.github.com/rest/repos/webhooks";

http_response json_answer(int status, std::string body) {
  http_response res;
  res.status = status;
  res.fields.emplace_back("Content-Type", "application/json; charset=utf-8");
  res.body = std::move(body);
  return res;
}

/// GitHub's error body: {"message", "documentation_url", "status"}, with `errors` for a 422.
http_response github_error(int status, std::string_view message, std::string_view detail = {}) {
  json_writer out;
  out.begin_object().key("message").value(message);
  if (!detail.empty()) {
    out.key("errors").begin_array().begin_object();
    out.key("resource").value("Hook").key("code").value("custom").key("message").value(detail);
    out.end_object().end_array();
  }
  out.key("documentation_url").value(docs_url).key("status").value(std::to_string(status));
  out.end_object();
  return json_answer(status, out.take());
}

/// Splits the path of `target` (without its query) into segments.
std::vector<std::string> split_path(std::string_view target) {
  auto path = target.substr(0, target.find('?'));
  std::vector<std::string> segments;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    auto slash = std::min(path.find('/'), path.size());
    auto decoded = percent_decode(path.substr(0, slash));
    segments.push_back(decoded ? *decoded : std::string{path.substr(0, slash)});
    path.remove_prefix(slash);
  }
  return segments;
}

/// Returns the value of query parameter `name` in `target` as a number, or `fallback`.
std::size_t query_number(std::string_view target, std::string_view name, std::size_t fallback) {
  auto query = target.find('?');
  if (query == std::string_view::npos)
    return fallback;
  auto rest = target.substr(query + 1);
  while (!rest.empty()) {
    auto amp = std::min(rest.find('&'), rest.size());
    auto pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      auto value = json_as_int(pair.substr(eq + 1));
      return value && *value > 0 ? static_cast<std::size_t>(*value) : fallback;
    }
    rest.remove_prefix(std::min(amp + 1, rest.size()));
  }
  return fallback;
}

std::string hook_json(const fake_github::hook& hook, const std::string& api) {
  json_writer out;
  out.begin_object();
  out.key("type").value("Repository").key("id").value(hook.id).key("name").value("web");
  out.key("active").value(hook.active);
  out.key("events").begin_array();
  for (const auto& event : hook.events)
    out.value(event);
  out.end_array();
  out.key("config").begin_object();
  out.key("content_type").value(hook.content_type).key("insecure_ssl").value(hook.insecure_ssl);
  out.key("url").value(hook.url);
  if (!hook.secret.empty())
    out.key("secret").value("********");
  out.end_object();
  auto self = api + "/repos/" + hook.repository + "/hooks/" + std::to_string(hook.id);
  out.key("url").value(self).key("ping_url").value(self + "/pings");
  out.end_object();
  return out.take();
}

bool overlaps(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::any_of(a.begin(), a.end(),
                     [&b](const std::string& x) { return std::find(b.begin(), b.end(), x) != b.end(); });
}

} // namespace

struct fake_github::state : std::enable_shared_from_this<state> {
  mutable std::mutex mtx;
  /// Guards the counts of answers, apart from `mtx`: an answer may be sent while `mtx` is held.
  mutable std::mutex count_mtx;
  mutable std::condition_variable answered; ///< notified after each API answer
  http_server_ptr server;
  http_client_ptr client;
  std::uint16_t port = 0;
  std::set<std::string> tokens;
  std::set<std::string> repositories;
  std::vector<hook> hooks; ///< of every repository, oldest first
  std::int64_t next_id = first_hook_id;
  std::vector<delivery> sent;
  std::map<std::string, std::size_t> requests_by_method; ///< guarded by count_mtx
  bool down = false;
  /// hold_creates(): the 201s of hook creations wait here until release_creates().
  bool holding_creates = false;
  std::vector<std::function<void()>> held_creates;
  mutable std::condition_variable held; ///< notified (with `mtx`) after each creation is held

  std::string api() const {
    return "http://127.0.0.1:" + std::to_string(port);
  }

  // -- deliveries ---------------------------------------------------------------

  /// POSTs `d` to the URL of the hook with the hook's secret, and calls `done` with the answer (on an I/O thread).
  void send_delivery(delivery d, const hook& target, std::function<void(delivery)> done) {
    auto where = parse_url(target.url, "url");
    if (!where) {
      done(std::move(d));
      return;
    }
    client_request req;
    req.destination = *where;
    req.message.method = "POST";
    req.message.body = d.body;
    req.message.fields = {{"Content-Type", "application/json"},
                          {"User-Agent", "GitHub-Hookshot/fake"},
                          {"X-GitHub-Event", d.event},
                          {"X-GitHub-Delivery", d.id},
                          {"X-GitHub-Hook-ID", std::to_string(target.id)},
                          {"X-GitHub-Hook-Installation-Target-Type", "repository"}};
    if (!target.secret.empty())
      req.message.fields.emplace_back("X-Hub-Signature-256", sign_hmac_sha256(target.secret, d.body));
    req.timeout = delivery_timeout;
    req.owner = destination_owner::operator_config;
    auto self = shared_from_this();
    client->send(std::move(req), [self, d = std::move(d), done = std::move(done)](client_result result) mutable {
      d.status = result.ok() ? result.response.status : 0;
      d.answer = result.ok() ? result.response.body : result.error;
      {
        std::lock_guard<std::mutex> guard{self->mtx};
        self->sent.push_back(d);
      }
      done(std::move(d));
    });
  }

  /// POSTs `event` with `body` to every active hook of `repository` that takes it; calls `done` with the deliveries
  /// and their answers once every receiver answered.
  void deliver_async(const std::string& repository, const std::string& event, const std::string& body,
                     std::function<void(std::vector<delivery>)> done) {
    std::vector<hook> targets;
    {
      std::lock_guard<std::mutex> guard{mtx};
      for (const auto& h : hooks) {
        auto takes = std::find(h.events.begin(), h.events.end(), event) != h.events.end()
                     || std::find(h.events.begin(), h.events.end(), "*") != h.events.end();
        if (h.repository == repository && h.active && takes)
          targets.push_back(h);
      }
    }
    if (targets.empty())
      return done({});
    struct gather {
      std::mutex mtx;
      std::vector<delivery> answers;
      std::size_t outstanding;
      std::function<void(std::vector<delivery>)> done;
    };
    auto all = std::make_shared<gather>();
    all->outstanding = targets.size();
    all->done = std::move(done);
    for (const auto& h : targets)
      send_delivery({new_delivery_id(), h.id, event, body, 0, {}}, h, [all](delivery d) {
        std::unique_lock<std::mutex> guard{all->mtx};
        all->answers.push_back(std::move(d));
        if (--all->outstanding > 0)
          return;
        auto answers = std::move(all->answers);
        guard.unlock();
        all->done(std::move(answers));
      });
  }

  /// POSTs the delivery `id` again; calls `done` with the answer, or with nullopt when there is no such delivery.
  void redeliver_async(const std::string& id, std::function<void(std::optional<delivery>)> done) {
    std::optional<delivery> original;
    std::optional<hook> target;
    {
      std::lock_guard<std::mutex> guard{mtx};
      for (const auto& d : sent)
        if (d.id == id)
          original = d;
      if (original)
        for (const auto& h : hooks)
          if (h.id == original->hook_id)
            target = h;
    }
    if (!original || !target)
      return done(std::nullopt);
    send_delivery({original->id, original->hook_id, original->event, original->body, 0, {}}, *target,
                  [done = std::move(done)](delivery d) { done(std::move(d)); });
  }

  static std::string new_delivery_id() {
    auto hex = random_hex(16);
    return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-"
           + hex.substr(20);
  }

  // -- API ----------------------------------------------------------------------

  /// Answers `req`, then counts it (so that a waiter woken by the count finds the answer on the way).
  void serve(http_request& req, http_server::responder respond) {
    auto method = req.method;
    auto self = shared_from_this();
    route(req, [self, method, respond = std::move(respond)](http_response res) {
      respond(std::move(res));
      {
        std::lock_guard<std::mutex> guard{self->count_mtx};
        ++self->requests_by_method[method];
      }
      self->answered.notify_all();
    });
  }

  void route(http_request& req, http_server::responder respond) {
    auto admin = split_path(req.target);
    if (!admin.empty() && admin[0] == "_fake")
      return route_admin(req, admin, std::move(respond));
    std::unique_lock<std::mutex> guard{mtx};
    if (down) {
      guard.unlock();
      return respond(github_error(503, "Service Unavailable"));
    }
    if (req.field("User-Agent").empty())
      return respond(github_error(403, "Request forbidden by administrative rules. Please make sure your request "
                                       "has a User-Agent header"));
    auto auth = req.field("Authorization");
    std::string token;
    if (istarts_with(auth, "Bearer "))
      token = std::string{auth.substr(7)};
    else if (istarts_with(auth, "token "))
      token = std::string{auth.substr(6)};
    if (tokens.count(token) == 0)
      return respond(github_error(401, "Bad credentials"));
    auto s = split_path(req.target);
    if (s.size() < 4 || s[0] != "repos" || s[3] != "hooks")
      return respond(github_error(404, "Not Found"));
    auto repository = s[1] + "/" + s[2];
    if (repositories.count(repository) == 0)
      return respond(github_error(404, "Not Found"));
    if (s.size() == 4 && req.method == "POST")
      return create(guard, req, repository, std::move(respond));
    if (s.size() == 4 && req.method == "GET")
      return respond(list(req, repository));
    if (s.size() != 5)
      return respond(github_error(404, "Not Found"));
    auto id = json_as_int(s[4]);
    auto found = std::find_if(hooks.begin(), hooks.end(), [&](const hook& h) {
      return id && h.id == *id && h.repository == repository;
    });
    if (found == hooks.end())
      return respond(github_error(404, "Not Found"));
    if (req.method == "DELETE") {
      hooks.erase(found);
      http_response res;
      res.status = 204;
      return respond(std::move(res));
    }
    if (req.method == "PATCH")
      return respond(update(req, *found));
    return respond(github_error(404, "Not Found"));
  }

  // -- admin routes (no auth) ------------------------------------------------------

  static std::string delivery_json(const delivery& d) {
    json_writer out;
    out.begin_object().key("id").value(d.id).key("hookId").value(d.hook_id).key("event").value(d.event);
    out.key("status").value(d.status).key("answer").value(d.answer).end_object();
    return out.take();
  }

  void route_admin(http_request& req, const std::vector<std::string>& s, http_server::responder respond) {
    if (s.size() == 5 && s[1] == "repos" && s[4] == "hooks" && req.method == "GET") {
      std::lock_guard<std::mutex> guard{mtx};
      json_writer out;
      out.begin_array();
      for (const auto& h : hooks) {
        if (h.repository != s[2] + "/" + s[3])
          continue;
        out.begin_object().key("id").value(h.id).key("url").value(h.url).key("secret").value(h.secret);
        out.key("active").value(h.active).key("contentType").value(h.content_type);
        out.key("insecureSsl").value(h.insecure_ssl).key("events").begin_array();
        for (const auto& event : h.events)
          out.value(event);
        out.end_array().end_object();
      }
      out.end_array();
      return respond(json_answer(200, out.take()));
    }
    if (s.size() == 6 && s[1] == "repos" && s[4] == "events" && req.method == "POST")
      return deliver_async(s[2] + "/" + s[3], s[5], req.body, [respond](std::vector<delivery> answers) {
        std::string body = "[";
        for (const auto& d : answers)
          body += (body.size() > 1 ? "," : "") + delivery_json(d);
        respond(json_answer(200, body + "]"));
      });
    if (s.size() == 4 && s[1] == "deliveries" && s[3] == "redeliver" && req.method == "POST")
      return redeliver_async(s[2], [respond](std::optional<delivery> d) {
        respond(d ? json_answer(200, delivery_json(*d)) : github_error(404, "Not Found"));
      });
    if (s.size() == 2 && s[1] == "down" && req.method == "PUT") {
      auto members = parse_json_object(req.body, "body");
      const auto* down_flag = members ? find_member(*members, "down") : nullptr;
      auto value = down_flag ? json_as_bool(*down_flag) : std::nullopt;
      if (!value)
        return respond(github_error(400, "the body must be {\"down\": true|false}"));
      {
        std::lock_guard<std::mutex> guard{mtx};
        down = *value;
      }
      http_response res;
      res.status = 204;
      return respond(std::move(res));
    }
    respond(github_error(404, "Not Found"));
  }

  /// Reads `active`, `events` and `config` of a create or update body into `h`; returns an error answer if invalid.
  std::optional<http_response> read_hook(const std::string& body, hook& h, bool creating) {
    auto members = parse_json_object(body, "body");
    if (!members)
      return github_error(400, "Problems parsing JSON");
    if (creating) {
      const auto* name = find_member(*members, "name");
      if (name != nullptr && json_as_string(*name) != std::optional<std::string>{"web"})
        return github_error(422, "Validation Failed", "Name must be web");
    }
    if (const auto* active = find_member(*members, "active"))
      h.active = json_as_bool(*active).value_or(true);
    if (const auto* events = find_member(*members, "events")) {
      auto list = json_as_string_array(*events);
      if (!list || list->empty())
        return github_error(422, "Validation Failed", "events must be a list of event names");
      for (const auto& event : *list)
        if (event.empty() || event.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ -") != std::string::npos)
          return github_error(422, "Validation Failed", "These events are not allowed for this hook: " + event);
      h.events = std::move(*list);
    } else if (creating) {
      h.events = {"push"};
    }
    if (const auto* raw = find_member(*members, "config")) {
      auto config = parse_json_object(*raw, "config");
      if (!config)
        return github_error(422, "Validation Failed", "config must be an object");
      auto text = [&config](std::string_view name) {
        const auto* value = find_member(*config, name);
        return value ? json_as_string(*value).value_or("") : std::string{};
      };
      h.url = text("url");
      h.content_type = text("content_type").empty() ? "form" : text("content_type");
      h.insecure_ssl = text("insecure_ssl").empty() ? "0" : text("insecure_ssl");
      // As GitHub: a config without the secret removes it.
      h.secret = text("secret");
    }
    if (h.url.empty())
      return github_error(422, "Validation Failed", "url cannot be blank");
    return std::nullopt;
  }

  void create(std::unique_lock<std::mutex>& guard, http_request& req, const std::string& repository,
              http_server::responder respond) {
    hook h;
    h.repository = repository;
    if (auto refused = read_hook(req.body, h, true))
      return respond(std::move(*refused));
    for (const auto& existing : hooks)
      if (existing.repository == repository && existing.url == h.url && overlaps(existing.events, h.events))
        return respond(github_error(422, "Validation Failed", "Hook already exists on this repository"));
    h.id = next_id++;
    hooks.push_back(h);
    auto body = hook_json(h, api());
    json_writer ping;
    ping.begin_object().key("zen").value("Design for failure.").key("hook_id").value(h.id).key("hook").raw(body);
    ping.key("repository").begin_object().key("full_name").value(repository).end_object().end_object();
    guard.unlock();
    // The ping goes out before the creator has its 201: it must find the hook URL answering already.
    delivery d{new_delivery_id(), h.id, "ping", ping.take(), 0, {}};
    auto self = shared_from_this();
    send_delivery(std::move(d), h, [self, respond = std::move(respond), body = std::move(body)](delivery) mutable {
      auto answer = [respond = std::move(respond), body = std::move(body)]() mutable {
        respond(json_answer(201, std::move(body)));
      };
      {
        std::lock_guard<std::mutex> guard{self->mtx};
        if (self->holding_creates) {
          self->held_creates.push_back(std::move(answer));
          self->held.notify_all();
          return;
        }
      }
      answer();
    });
  }

  http_response list(const http_request& req, const std::string& repository) {
    auto per_page = std::min(query_number(req.target, "per_page", default_per_page), max_per_page);
    auto page = query_number(req.target, "page", 1);
    std::vector<const hook*> mine;
    for (const auto& h : hooks)
      if (h.repository == repository)
        mine.push_back(&h);
    json_writer out;
    out.begin_array();
    for (std::size_t i = (page - 1) * per_page; i < mine.size() && i < page * per_page; ++i)
      out.raw(hook_json(*mine[i], api()));
    out.end_array();
    return json_answer(200, out.take());
  }

  http_response update(const http_request& req, hook& h) {
    auto changed = h;
    if (auto refused = read_hook(req.body, changed, false))
      return *refused;
    h = std::move(changed);
    return json_answer(200, hook_json(h, api()));
  }
};

fake_github::fake_github(io_runtime& io) : state_(std::make_shared<state>()) {
  state_->client = make_http_client(io);
  http_server::options opts;
  opts.host = "127.0.0.1";
  opts.port = 0;
  std::weak_ptr<state> weak = state_;
  auto server = start_http_server(io, opts, [weak](http_request req, http_server::responder respond) {
    if (auto self = weak.lock())
      self->serve(req, std::move(respond));
    else
      respond(github_error(503, "Service Unavailable"));
  });
  std::lock_guard<std::mutex> guard{state_->mtx};
  state_->port = server->port();
  state_->server = std::move(server);
}

fake_github::~fake_github() {
  std::lock_guard<std::mutex> guard{state_->mtx};
  if (state_->server)
    state_->server->stop();
}

std::string fake_github::url() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->api();
}

void fake_github::add_token(const std::string& token) {
  std::lock_guard<std::mutex> guard{state_->mtx};
  state_->tokens.insert(token);
}

void fake_github::add_repository(const std::string& full_name) {
  std::lock_guard<std::mutex> guard{state_->mtx};
  state_->repositories.insert(full_name);
}

void fake_github::set_down(bool down) {
  std::lock_guard<std::mutex> guard{state_->mtx};
  state_->down = down;
}

void fake_github::hold_creates() {
  std::lock_guard<std::mutex> guard{state_->mtx};
  state_->holding_creates = true;
}

void fake_github::release_creates() {
  std::vector<std::function<void()>> answers;
  {
    std::lock_guard<std::mutex> guard{state_->mtx};
    state_->holding_creates = false;
    answers.swap(state_->held_creates);
  }
  for (auto& answer : answers)
    answer();
}

bool fake_github::wait_for_held_creates(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> guard{state_->mtx};
  return state_->held.wait_for(guard, timeout, [&] { return state_->held_creates.size() >= n; });
}

std::vector<fake_github::hook> fake_github::hooks(const std::string& full_name) const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  std::vector<hook> result;
  for (const auto& h : state_->hooks)
    if (h.repository == full_name)
      result.push_back(h);
  return result;
}

std::size_t fake_github::requests(const std::string& method) const {
  std::lock_guard<std::mutex> guard{state_->count_mtx};
  auto i = state_->requests_by_method.find(method);
  return i == state_->requests_by_method.end() ? 0 : i->second;
}

bool fake_github::wait_for_requests(const std::string& method, std::size_t n,
                                    std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> guard{state_->count_mtx};
  return state_->answered.wait_for(guard, timeout, [&] {
    auto i = state_->requests_by_method.find(method);
    return i != state_->requests_by_method.end() && i->second >= n;
  });
}

std::vector<fake_github::delivery> fake_github::deliveries() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->sent;
}

std::vector<fake_github::delivery> fake_github::deliver(const std::string& full_name, const std::string& event,
                                                        const std::string& body) {
  auto promise = std::make_shared<std::promise<std::vector<delivery>>>();
  auto answers = promise->get_future();
  state_->deliver_async(full_name, event, body,
                        [promise](std::vector<delivery> sent) { promise->set_value(std::move(sent)); });
  return answers.get();
}

fake_github::delivery fake_github::redeliver(const std::string& id) {
  auto promise = std::make_shared<std::promise<std::optional<delivery>>>();
  auto answer = promise->get_future();
  state_->redeliver_async(id, [promise](std::optional<delivery> d) { promise->set_value(std::move(d)); });
  return answer.get().value_or(delivery{});
}

} // namespace feedrouter

#include "tests/support/fake_controller.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>

#include <simdjson.h>

#include "core/url.hpp"
#include "net/http_message.hpp"
#include "net/http_server.hpp"

namespace feedrouter {

namespace {

// -- limits and fixed texts ---------------------------------------------------

/// Fires the recording holds before its vector first grows: a benchmark burst records without reallocating.
constexpr std::size_t initial_fire_capacity = 64 * 1024;

/// The namespace OpenWhisk resolves to the caller's default namespace.
constexpr std::string_view default_namespace = "_";

// The controller's own error texts, so that clients see what they would see in production.
constexpr std::string_view malformed_text = "The request content was malformed";
constexpr std::string_view unauthenticated_text = "The supplied authentication is invalid";
constexpr std::string_view no_auth_text =
  "The resource requires authentication, which was not supplied with the request";
constexpr std::string_view forbidden_text = "The supplied authentication is not authorized to access this resource";
constexpr std::string_view not_found_text = "The requested resource does not exist";
constexpr std::string_view method_text = "The requested method is not allowed for this resource";

// -- base64 (Basic auth) ------------------------------------------------------

/// Returns the value of one standard base64 digit, or -1.
int base64_digit(char c) noexcept {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

/// Decodes standard base64 with optional padding; returns nullopt for anything else.
std::optional<std::string> base64_decode(std::string_view text) {
  auto digits = text.substr(0, text.find('='));
  auto padding = text.substr(digits.size());
  if (padding.size() > 2 || padding.find_first_not_of('=') != std::string_view::npos)
    return std::nullopt;
  if (!padding.empty() && text.size() % 4 != 0)
    return std::nullopt;
  // One digit left over carries only 6 bits: not even one byte.
  if (digits.size() % 4 == 1)
    return std::nullopt;
  std::string out;
  out.reserve(digits.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : digits) {
    auto d = base64_digit(c);
    if (d < 0)
      return std::nullopt;
    acc = ((acc << 6) | static_cast<std::uint32_t>(d)) & 0xffffu; // never more than 14 bits pending
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xffu));
    }
  }
  return out;
}

/// Returns whether `x` and `y` are equal ignoring ASCII case.
bool iequals(std::string_view x, std::string_view y) noexcept {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin(), [&](char a, char b) {
           return lower(a) == lower(b);
         });
}

/// What a request's Authorization header says about its caller.
struct credentials {
  bool supplied = false;          ///< the request had an Authorization header
  std::optional<std::string> key; ///< "uuid:key" when the header is well-formed Basic auth
};

/// Reads a `Basic` Authorization header.
credentials read_credentials(std::string_view header) {
  constexpr std::string_view scheme = "Basic";
  credentials result;
  result.supplied = !header.empty();
  if (header.size() <= scheme.size() || !iequals(header.substr(0, scheme.size()), scheme)
      || header[scheme.size()] != ' ')
    return result;
  auto token = header.substr(scheme.size());
  auto first = token.find_first_not_of(' ');
  if (first == std::string_view::npos)
    return result;
  token = token.substr(first, token.find_last_not_of(' ') - first + 1);
  result.key = base64_decode(token);
  return result;
}

// -- JSON output --------------------------------------------------------------

/// Appends `text` as a JSON string literal. Bytes of invalid UTF-8 are escaped one by one as Latin-1, so the output
/// stays valid JSON whatever a client sent.
void append_json_string(std::string& out, std::string_view text) {
  constexpr char hex[] = "0123456789abcdef";
  const bool utf8 = simdjson::validate_utf8(text.data(), text.size());
  out += '"';
  for (char ch : text) {
    auto byte = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (byte < 0x20 || (!utf8 && byte >= 0x80)) {
          out += "\\u00";
          out += hex[byte >> 4];
          out += hex[byte & 0x0f];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

// -- responses ----------------------------------------------------------------

http_response json_response(int status, std::string body) {
  http_response res;
  res.status = status;
  res.fields.emplace_back("Content-Type", "application/json");
  res.body = std::move(body);
  return res;
}

http_response empty_response(int status) {
  http_response res;
  res.status = status;
  return res;
}

/// Returns `{"error": message}`, plus `"field"` when given, as the controller and the feed provider answer errors.
http_response error_response(int status, std::string_view message, std::string_view field = {}) {
  std::string body = "{\"error\":";
  append_json_string(body, message);
  if (!field.empty()) {
    body += ",\"field\":";
    append_json_string(body, field);
  }
  body += '}';
  return json_response(status, std::move(body));
}

http_response method_not_allowed(std::string_view allow) {
  auto res = error_response(405, method_text);
  res.fields.emplace_back("Allow", std::string{allow});
  return res;
}

// -- requests -----------------------------------------------------------------

using segments = std::vector<std::string>;

/// Splits the path of `target` into percent-decoded segments, ignoring the query and one trailing slash; returns
/// nullopt for a malformed escape or a target that is not a path.
std::optional<segments> split_path(std::string_view target) {
  auto path = target.substr(0, target.find_first_of("?#"));
  if (path.empty() || path.front() != '/')
    return std::nullopt;
  path.remove_prefix(1);
  if (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  segments result;
  if (path.empty())
    return result;
  for (;;) {
    auto slash = path.find('/');
    auto segment = percent_decode(path.substr(0, slash));
    if (!segment)
      return std::nullopt;
    result.push_back(std::move(*segment));
    if (slash == std::string_view::npos)
      return result;
    path.remove_prefix(slash + 1);
  }
}

/// Returns whether `body` is what the controller accepts as a trigger payload: empty, or a JSON object.
bool is_payload(const std::string& body) {
  if (body.empty())
    return true;
  // dom::parser is not thread-safe and is expensive to build: one per I/O thread, reused for every fire.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS)
    return false;
  return doc.type() == simdjson::dom::element_type::OBJECT;
}

/// Returns a bijective scramble of `x` (the splitmix64 finaliser): distinct inputs give distinct outputs.
std::uint64_t scramble(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

void append_hex64(std::string& out, std::uint64_t x) {
  constexpr char hex[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4)
    out += hex[(x >> shift) & 0x0f];
}

std::uint64_t random_u64() {
  std::random_device source;
  return (std::uint64_t{source()} << 32) ^ source();
}

} // namespace

// -- state --------------------------------------------------------------------

/// Shared by the controller object and the server's handler, which runs on I/O threads and holds a weak reference.
struct fake_controller::state {
  // -- member types -----------------------------------------------------------

  struct trigger_entry {
    std::string auth_key;
    bool has_rule = true;
    sys_ms updated;
  };

  /// The namespace a request may act in (with `_` resolved), or the answer that refuses it.
  using access = std::variant<std::string, http_response>;

  // -- constructors -----------------------------------------------------------

  state() : activation_prefix(random_u64()), next_activation(random_u64()) {
    fires.reserve(initial_fire_capacity);
  }

  // -- routing ----------------------------------------------------------------

  http_response handle(http_request& req) {
    auto path = split_path(req.target);
    if (!path)
      return error_response(400, malformed_text);
    const auto& s = *path;
    if (s.size() >= 3 && s[0] == "api" && s[1] == "v1" && s[2] == "namespaces")
      return route_api(req, s);
    if (s.size() >= 2 && s[0] == "_fake")
      return route_admin(req, s);
    return error_response(404, not_found_text);
  }

  http_response route_api(http_request& req, const segments& s) {
    if (s.size() == 3) {
      if (req.method != "GET")
        return method_not_allowed("GET");
      return on_list_namespaces(req);
    }
    if (s.size() == 6 && s[4] == "triggers") {
      if (req.method == "GET")
        return on_get_trigger(req, s[3], s[5]);
      if (req.method == "POST")
        return on_fire(req, s[3], s[5]);
      return method_not_allowed("GET, POST");
    }
    return error_response(404, not_found_text);
  }

  http_response route_admin(http_request& req, const segments& s) {
    if (s.size() == 4 && s[1] == "triggers") {
      if (req.method == "PUT")
        return on_put_trigger(req, s[2], s[3]);
      if (req.method == "DELETE")
        return on_delete_trigger(s[2], s[3]);
      return method_not_allowed("PUT, DELETE");
    }
    if (s.size() == 2 && s[1] == "fires") {
      if (req.method == "GET")
        return on_get_fires();
      if (req.method == "DELETE")
        return on_clear_fires();
      return method_not_allowed("GET, DELETE");
    }
    if (s.size() == 3 && s[1] == "fires" && s[2] == "count") {
      if (req.method != "GET")
        return method_not_allowed("GET");
      return json_response(200, "{\"count\":" + std::to_string(fire_count.load()) + '}');
    }
    return error_response(404, not_found_text);
  }

  // -- OpenWhisk routes -------------------------------------------------------

  http_response on_list_namespaces(const http_request& req) {
    auto caller = read_credentials(req.field("Authorization"));
    std::lock_guard<std::mutex> guard{mtx};
    auto known = find_key(caller);
    if (auto* denied = std::get_if<http_response>(&known))
      return std::move(*denied);
    const auto& owned = namespaces.find(std::get<std::string>(known))->second;
    std::string body = "[";
    for (const auto& ns : owned) {
      if (body.size() > 1)
        body += ',';
      append_json_string(body, ns);
    }
    body += ']';
    return json_response(200, std::move(body));
  }

  http_response on_get_trigger(const http_request& req, const std::string& ns, const std::string& name) {
    auto caller = read_credentials(req.field("Authorization"));
    std::lock_guard<std::mutex> guard{mtx};
    auto granted = authorize(caller, ns);
    if (auto* denied = std::get_if<http_response>(&granted))
      return std::move(*denied);
    const auto& resolved = std::get<std::string>(granted);
    auto i = triggers.find(trigger_ref{resolved, name}.key());
    if (i == triggers.end())
      return error_response(404, not_found_text);
    return json_response(200, trigger_json(resolved, name, i->second));
  }

  http_response on_fire(http_request& req, const std::string& ns, const std::string& name) {
    // Everything that needs no shared state happens before locking: at benchmark rates the lock is the bottleneck.
    auto received_at = now_ms();
    auto caller = read_credentials(req.field("Authorization"));
    auto payload_ok = is_payload(req.body);
    bool has_rule = false;
    {
      std::lock_guard<std::mutex> guard{mtx};
      auto granted = authorize(caller, ns);
      if (auto* denied = std::get_if<http_response>(&granted))
        return std::move(*denied);
      // The controller reads the payload before it looks the trigger up.
      if (!payload_ok)
        return error_response(400, malformed_text);
      auto& resolved = std::get<std::string>(granted);
      auto i = triggers.find(trigger_ref{resolved, name}.key());
      if (i == triggers.end())
        return error_response(404, not_found_text);
      has_rule = i->second.has_rule;
      fires.push_back(fire{trigger_ref{std::move(resolved), name}, std::string{req.field("Authorization")},
                           req.body.empty() ? std::string{"{}"} : std::move(req.body), received_at});
      fire_count.store(fires.size());
    }
    fires_changed.notify_all();
    if (!has_rule)
      return empty_response(204);
    std::string body = "{\"activationId\":\"";
    append_hex64(body, activation_prefix);
    append_hex64(body, scramble(next_activation.fetch_add(1)));
    body += "\"}";
    return json_response(202, std::move(body));
  }

  // -- admin routes -----------------------------------------------------------

  http_response on_put_trigger(const http_request& req, const std::string& ns, const std::string& name) {
    if (ns == default_namespace || !is_valid_entity_name(ns))
      return error_response(400, "not a valid namespace name", "namespace");
    if (!is_valid_entity_name(name))
      return error_response(400, "not a valid trigger name", "trigger");
    simdjson::dom::parser parser;
    simdjson::dom::object body;
    if (parser.parse(req.body).get(body) != simdjson::SUCCESS)
      return error_response(400, "the body must be a JSON object");
    std::string_view auth_key;
    if (body["authKey"].get(auth_key) != simdjson::SUCCESS || auth_key.find(':') == std::string_view::npos)
      return error_response(400, "authKey must be a string \"uuid:key\"", "authKey");
    bool has_rule = true;
    auto rule = body["rule"];
    if (rule.error() != simdjson::NO_SUCH_FIELD && rule.get(has_rule) != simdjson::SUCCESS)
      return error_response(400, "rule must be a boolean", "rule");
    auto entry = add_trigger(trigger_ref{ns, name}, std::string{auth_key}, has_rule);
    return json_response(201, trigger_json(ns, name, entry));
  }

  http_response on_delete_trigger(const std::string& ns, const std::string& name) {
    if (!remove_trigger(trigger_ref{ns, name}))
      return error_response(404, not_found_text);
    return empty_response(204);
  }

  http_response on_get_fires() {
    auto snapshot = copy_fires();
    std::string body = "{\"count\":" + std::to_string(snapshot.size()) + ",\"fires\":[";
    for (const auto& f : snapshot) {
      if (&f != &snapshot.front())
        body += ',';
      body += "{\"namespace\":";
      append_json_string(body, f.trigger.ns);
      body += ",\"trigger\":";
      append_json_string(body, f.trigger.name);
      body += ",\"authorization\":";
      append_json_string(body, f.authorization);
      // Recorded bodies are JSON objects (checked on arrival), so they go in as they are.
      body += ",\"body\":";
      body += f.body;
      body += ",\"receivedAt\":";
      append_json_string(body, format_iso8601(f.received_at));
      body += '}';
    }
    body += "]}";
    return json_response(200, std::move(body));
  }

  http_response on_clear_fires() {
    clear_fires();
    return empty_response(204);
  }

  // -- operations shared with the public API ----------------------------------

  /// Returns a copy of the entry as stored: another thread may replace or remove it as soon as the lock is gone.
  trigger_entry add_trigger(const trigger_ref& trigger, const std::string& auth_key, bool has_rule) {
    trigger_entry entry{auth_key, has_rule, now_ms()};
    std::lock_guard<std::mutex> guard{mtx};
    triggers[trigger.key()] = entry;
    auto& owned = namespaces[auth_key];
    if (std::find(owned.begin(), owned.end(), trigger.ns) == owned.end())
      owned.push_back(trigger.ns);
    return entry;
  }

  /// Returns whether the trigger existed.
  bool remove_trigger(const trigger_ref& trigger) {
    std::lock_guard<std::mutex> guard{mtx};
    return triggers.erase(trigger.key()) > 0;
  }

  std::vector<fire> copy_fires() const {
    std::lock_guard<std::mutex> guard{mtx};
    return fires;
  }

  void clear_fires() {
    std::lock_guard<std::mutex> guard{mtx};
    fires.clear(); // keeps the capacity for the next run
    fire_count.store(0);
  }

  // -- helpers (require mtx) --------------------------------------------------

  /// Returns the caller's key when it is known, else 401 as the controller answers it.
  access find_key(const credentials& caller) const {
    if (!caller.supplied)
      return error_response(401, no_auth_text);
    if (!caller.key || namespaces.count(*caller.key) == 0)
      return error_response(401, unauthenticated_text);
    return *caller.key;
  }

  /// Authenticates (401) and checks that the key owns `ns` (403), resolving `_` to the key's first namespace.
  access authorize(const credentials& caller, const std::string& ns) const {
    auto known = find_key(caller);
    if (std::holds_alternative<http_response>(known))
      return known;
    const auto& owned = namespaces.find(std::get<std::string>(known))->second;
    if (ns == default_namespace)
      return owned.front();
    if (std::find(owned.begin(), owned.end(), ns) == owned.end())
      return error_response(403, forbidden_text);
    return ns;
  }

  /// Returns the trigger as the controller shows it, with one active rule when it has any.
  static std::string trigger_json(const std::string& ns, const std::string& name, const trigger_entry& entry) {
    std::string body = "{\"namespace\":";
    append_json_string(body, ns);
    body += ",\"name\":";
    append_json_string(body, name);
    body += R"(,"version":"0.0.1","publish":false,"annotations":[],"parameters":[],"limits":{},"updated":)";
    body += std::to_string(entry.updated.time_since_epoch().count());
    body += ",\"rules\":{";
    if (entry.has_rule) {
      append_json_string(body, ns + '/' + name + "-rule");
      body += ":{\"status\":\"active\",\"action\":{\"name\":";
      append_json_string(body, name + "-action");
      body += ",\"path\":";
      append_json_string(body, ns);
      body += "}}";
    }
    body += "}}";
    return body;
  }

  // -- member variables -------------------------------------------------------

  // An activation id is the prefix followed by the scrambled counter: unique (the scramble is a bijection), and
  // random-looking from the first id on because the counter starts at a random value.
  const std::uint64_t activation_prefix;
  std::atomic<std::uint64_t> next_activation;
  std::uint16_t port = 0; ///< set once in the constructor

  mutable std::mutex mtx;
  mutable std::condition_variable fires_changed;
  std::unordered_map<std::string, trigger_entry> triggers; ///< by trigger_ref::key()
  std::unordered_map<std::string, std::vector<std::string>> namespaces; ///< by "uuid:key"; the first is the default
  std::vector<fire> fires;
  std::atomic<std::size_t> fire_count{0}; ///< fires.size(), written under mtx, read without it
  http_server_ptr server; ///< under mtx; stop() takes it out
};

// -- fake_controller ----------------------------------------------------------

fake_controller::fake_controller(io_runtime& io, std::uint16_t port) : state_(std::make_shared<state>()) {
  http_server::options opts;
  opts.host = "127.0.0.1";
  opts.port = port;
  // A weak reference: the state owns the server, and a strong one here would keep both alive forever.
  std::weak_ptr<state> weak = state_;
  auto server = start_http_server(io, opts, [weak](http_request req, http_server::responder respond) {
    if (auto self = weak.lock())
      respond(self->handle(req));
    else
      respond(error_response(503, "the fake controller is stopped"));
  });
  state_->port = server->port();
  std::lock_guard<std::mutex> guard{state_->mtx};
  state_->server = std::move(server);
}

fake_controller::~fake_controller() {
  stop();
}

std::string fake_controller::url() const {
  return "http://127.0.0.1:" + std::to_string(state_->port);
}

std::uint16_t fake_controller::port() const {
  return state_->port;
}

void fake_controller::add_trigger(const trigger_ref& trigger, const std::string& auth_key, bool has_rule) {
  state_->add_trigger(trigger, auth_key, has_rule);
}

void fake_controller::remove_trigger(const trigger_ref& trigger) {
  state_->remove_trigger(trigger);
}

std::vector<fake_controller::fire> fake_controller::fires() const {
  return state_->copy_fires();
}

std::size_t fake_controller::fire_count() const {
  return state_->fire_count.load();
}

bool fake_controller::wait_for_fires(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> guard{state_->mtx};
  return state_->fires_changed.wait_for(guard, timeout, [&] { return state_->fires.size() >= n; });
}

void fake_controller::clear_fires() {
  state_->clear_fires();
}

void fake_controller::stop() {
  http_server_ptr server;
  {
    std::lock_guard<std::mutex> guard{state_->mtx};
    server = std::move(state_->server);
  }
  // Stopped and destroyed here, on the caller's thread: never from inside one of its own handlers, which is where
  // the last reference to the state may be dropped.
  if (server)
    server->stop();
}

} // namespace feedrouter

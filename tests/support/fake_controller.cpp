#include "tests/support/fake_controller.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <variant>

#include <simdjson.h>

#include "core/json.hpp"
#include "core/url.hpp"
#include "net/http_message.hpp"
#include "net/http_server.hpp"
#include "core/text.hpp"

namespace feedrouter {

namespace {

// -- limits and fixed texts ---------------------------------------------------

/// Fires the recording holds before its vector first grows: a benchmark burst records without reallocating.
constexpr std::size_t initial_fire_capacity = 64 * 1024;

/// The namespace OpenWhisk resolves to the caller's default namespace.
constexpr std::string_view default_namespace = "_";

/// The statuses a scripted or held answer may have: what HTTP clients expect to read.
constexpr int min_status = 100;
constexpr int max_status = 599;

/// The slowest answer the admin route accepts: longer than any client timeout, short enough that a forgotten script
/// does not hang a test run.
constexpr std::chrono::milliseconds max_scripted_delay = std::chrono::minutes{10};

/// The status of a held or scripted answer when the admin body names none: an overloaded controller.
constexpr int default_fault_status = 503;

// The controller's own error texts, so that clients see what they would see in production.
constexpr std::string_view malformed_text = "The request content was malformed";
constexpr std::string_view unauthenticated_text = "The supplied authentication is invalid";
constexpr std::string_view no_auth_text =
  "The resource requires authentication, which was not supplied with the request";
constexpr std::string_view forbidden_text = "The supplied authentication is not authorized to access this resource";
constexpr std::string_view not_found_text = "The requested resource does not exist";
constexpr std::string_view method_text = "The requested method is not allowed for this resource";
constexpr std::string_view too_large_text = "The request content was too large";
constexpr std::string_view throttled_text = "Too many requests in the last minute";
constexpr std::string_view unavailable_text =
  "The server is currently unavailable (because it is overloaded or down for maintenance)";
constexpr std::string_view gateway_text = "The server did not receive a timely response from an upstream server";
constexpr std::string_view failure_text = "The server encountered an unexpected condition";

/// Returns the controller's error text for a scripted status without a body.
std::string_view status_text(int status) noexcept {
  switch (status) {
    case 400:
      return malformed_text;
    case 401:
      return unauthenticated_text;
    case 403:
      return forbidden_text;
    case 404:
      return not_found_text;
    case 405:
      return method_text;
    case 413:
      return too_large_text;
    case 429:
      return throttled_text;
    case 502:
    case 504:
      return gateway_text;
    case 503:
      return unavailable_text;
    default:
      return failure_text;
  }
}

bool is_success(int status) noexcept {
  return status >= 200 && status < 300;
}

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

/// Returns `body` with the content type it parses as: JSON, or else plain text.
http_response body_response(int status, std::string body) {
  // Scripted bodies are rare: a parser per call is cheap enough.
  simdjson::dom::parser parser;
  simdjson::dom::element ignored;
  auto json = parser.parse(body).get(ignored) == simdjson::SUCCESS;
  http_response res;
  res.status = status;
  res.fields.emplace_back("Content-Type", json ? "application/json" : "text/plain");
  res.body = std::move(body);
  return res;
}

/// What the server does with one request: answer now, answer later, or close the connection without answering.
struct reply {
  // An implicit conversion: most routes only ever answer at once.
  reply(http_response res) : response(std::move(res)) {
    // nop
  }

  http_response response;
  std::chrono::milliseconds delay{0}; ///< sends the response this much later
  bool close = false;                 ///< sends nothing and closes the connection
};

using scripted_answer = fake_controller::scripted_answer;

// -- slow answers -------------------------------------------------------------

/// Sends answers later from one thread of its own, so that a slow answer never holds an I/O thread.
class delayed_answers {
public:
  delayed_answers() = default;

  ~delayed_answers() {
    stop();
  }

  delayed_answers(const delayed_answers&) = delete;
  delayed_answers& operator=(const delayed_answers&) = delete;

  /// Sends `res` through `respond` once `delay` has passed, or at once when stopped. Starts the thread on first use.
  void schedule(std::chrono::milliseconds delay, http_server::responder respond, http_response res) {
    bool queued = false;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (!stopped_) {
        if (!thread_.joinable())
          thread_ = std::thread{[this] { run(); }};
        // Equal deadlines keep their order: a multimap inserts after equal keys.
        queue_.emplace(clock::now() + delay, pending{std::move(respond), std::move(res)});
        queued = true;
      }
    }
    if (queued)
      wake_.notify_one();
    else
      respond(std::move(res));
  }

  /// Sends every pending answer now and joins the thread; idempotent.
  void stop() {
    std::thread worker;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      stopped_ = true;
      worker = std::move(thread_);
    }
    wake_.notify_one();
    if (worker.joinable())
      worker.join();
  }

private:
  using clock = std::chrono::steady_clock;

  struct pending {
    http_server::responder respond;
    http_response response;
  };

  void run() {
    std::unique_lock<std::mutex> guard{mtx_};
    while (!stopped_) {
      if (queue_.empty()) {
        wake_.wait(guard);
        continue;
      }
      auto due = queue_.begin()->first;
      if (clock::now() < due) {
        wake_.wait_until(guard, due);
        continue;
      }
      auto next = queue_.extract(queue_.begin());
      // A responder only posts to its connection's strand, but it is still called without the lock.
      guard.unlock();
      next.mapped().respond(std::move(next.mapped().response));
      guard.lock();
    }
    auto rest = std::move(queue_);
    guard.unlock();
    for (auto& [due, late] : rest)
      late.respond(std::move(late.response));
  }

  std::mutex mtx_;
  std::condition_variable wake_;
  std::multimap<clock::time_point, pending> queue_; ///< by deadline
  bool stopped_ = false;
  std::thread thread_; ///< started by the first slow answer, joined by stop()
};

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

/// A scripted answer read from the admin route, or the 400 that rejects it.
using parsed_answer = std::variant<scripted_answer, http_response>;

/// Reads a status of a scripted or held answer; `field` names it in the error.
std::variant<int, http_response> read_status(simdjson::dom::element value, const std::string& field) {
  std::int64_t status = 0;
  if (value.get(status) != simdjson::SUCCESS || status < min_status || status > max_status)
    return error_response(400, "status must be an integer from 100 to 599", field);
  return static_cast<int>(status);
}

/// Reads one element of "answers"; `where` names it in errors, e.g. "answers[2]".
parsed_answer read_answer(simdjson::dom::element value, const std::string& where) {
  simdjson::dom::object fields;
  if (value.get(fields) != simdjson::SUCCESS)
    return error_response(400, "each answer must be a JSON object", where);
  scripted_answer answer;
  answer.status = default_fault_status;
  bool reset = false;
  for (auto [key, field] : fields) {
    auto name = where + '.' + std::string{key};
    if (key == "status") {
      auto status = read_status(field, name);
      if (auto* bad = std::get_if<http_response>(&status))
        return std::move(*bad);
      answer.status = std::get<int>(status);
    } else if (key == "retryAfter") {
      std::string_view text;
      std::uint64_t seconds = 0;
      if (field.get(text) == simdjson::SUCCESS)
        answer.retry_after = std::string{text};
      else if (field.get(seconds) == simdjson::SUCCESS)
        answer.retry_after = std::to_string(seconds);
      else
        return error_response(400, "retryAfter must be a string or a non-negative integer", name);
    } else if (key == "body") {
      std::string_view text;
      answer.body = field.get(text) == simdjson::SUCCESS ? std::string{text} : simdjson::minify(field);
    } else if (key == "delayMs") {
      std::uint64_t ms = 0;
      if (field.get(ms) != simdjson::SUCCESS || ms > static_cast<std::uint64_t>(max_scripted_delay.count()))
        return error_response(400, "delayMs must be an integer from 0 to " + std::to_string(max_scripted_delay.count()),
                              name);
      answer.type = scripted_answer::kind::delay;
      answer.delay = std::chrono::milliseconds{static_cast<std::int64_t>(ms)};
    } else if (key == "reset") {
      if (field.get(reset) != simdjson::SUCCESS)
        return error_response(400, "reset must be a boolean", name);
    } else {
      return error_response(400, "unknown field", name);
    }
  }
  if (reset) {
    // A closed connection has no status, headers, body or delay: anything else given with it is a mistake.
    if (fields.size() > 1)
      return error_response(400, "reset takes no other field", where + ".reset");
    answer.type = scripted_answer::kind::reset;
  }
  return answer;
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
    sys_ms updated;
    std::string feed;                     ///< the "feed" annotation; none when empty
    std::deque<scripted_answer> deletion_script; ///< answers to the requests that delete it or read its rules
    std::deque<scripted_answer> script; ///< the next attempts' answers, first one first
    std::optional<int> held;            ///< the status of every attempt while set
    std::vector<sys_ms> attempts;       ///< when each attempt arrived
  };

  struct rule_entry {
    std::string trigger; ///< the key "ns/name" of the trigger it points at
    bool active = true;
  };

  struct deletion {
    std::string kind; ///< "trigger" or "rule"
    trigger_ref entity;
    std::string authorization;
  };

  /// The namespace a request may act in (with `_` resolved), or the answer that refuses it.
  using access = std::variant<std::string, http_response>;

  // -- constructors -----------------------------------------------------------

  state() : activation_prefix(random_u64()), next_activation(random_u64()) {
    fires.reserve(initial_fire_capacity);
  }

  // -- routing ----------------------------------------------------------------

  /// Answers `req` now, later, or never (closing the connection), as handle() decides, then wakes the waiters for
  /// attempts and fires. Waking them only now means that a test which waited for an attempt finds its answer on the
  /// way: a slow one is queued, and stop() cannot overtake it.
  void serve(http_request& req, http_server::responder respond) {
    auto r = handle(req);
    if (r.close) {
      // The responder is dropped uncalled: it holds the last reference to the connection's session, whose stream
      // closes the socket when destroyed. http_server.hpp does not promise this yet (it asks for exactly one call);
      // the test "a scripted reset closes the connection without an answer" pins it.
      respond = nullptr;
    } else if (r.delay > std::chrono::milliseconds::zero()) {
      delayed.schedule(r.delay, std::move(respond), std::move(r.response));
    } else {
      respond(std::move(r.response));
    }
    recorded.notify_all();
  }

  reply handle(http_request& req) {
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

  reply route_api(http_request& req, const segments& s) {
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
      if (req.method == "DELETE")
        return on_delete_trigger_api(req, s[3], s[5]);
      return method_not_allowed("GET, POST, DELETE");
    }
    if (s.size() == 6 && s[4] == "rules") {
      if (req.method == "DELETE")
        return on_delete_rule(req, s[3], s[5]);
      if (req.method == "POST")
        return on_set_rule_status(req, s[3], s[5]);
      return method_not_allowed("POST, DELETE");
    }
    return error_response(404, not_found_text);
  }

  http_response route_admin(http_request& req, const segments& s) {
    if (s.size() == 4 && s[1] == "triggers") {
      if (req.method == "PUT")
        return on_put_trigger(req, s[2], s[3]);
      if (req.method == "DELETE")
        return on_delete_trigger(s[2], s[3]);
      if (req.method == "GET")
        return on_admin_get_trigger(s[2], s[3]);
      return method_not_allowed("GET, PUT, DELETE");
    }
    if (s.size() == 4 && s[1] == "rules") {
      if (req.method != "PUT")
        return method_not_allowed("PUT");
      return on_put_rule(req, s[2], s[3]);
    }
    if (s.size() == 2 && s[1] == "deletions") {
      if (req.method != "GET")
        return method_not_allowed("GET");
      return on_get_deletions();
    }
    if (s.size() == 5 && s[1] == "triggers" && s[4] == "deletion-script") {
      if (req.method != "PUT")
        return method_not_allowed("PUT");
      return on_put_script(req, trigger_ref{s[2], s[3]}, true);
    }
    if (s.size() == 5 && s[1] == "triggers") {
      trigger_ref trigger{s[2], s[3]};
      if (s[4] == "script") {
        if (req.method != "PUT")
          return method_not_allowed("PUT");
        return on_put_script(req, trigger);
      }
      if (s[4] == "hold") {
        if (req.method == "PUT")
          return on_put_hold(req, trigger);
        if (req.method == "DELETE")
          return on_delete_hold(trigger);
        return method_not_allowed("PUT, DELETE");
      }
      if (s[4] == "attempts") {
        if (req.method != "GET")
          return method_not_allowed("GET");
        return on_get_attempts(trigger);
      }
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
    if (auto fault = next_deletion_fault(i->second))
      return scripted_reply(*fault).response;
    return json_response(200, trigger_json(resolved, name, i->second));
  }

  http_response on_delete_trigger_api(const http_request& req, const std::string& ns, const std::string& name) {
    auto caller = read_credentials(req.field("Authorization"));
    std::lock_guard<std::mutex> guard{mtx};
    auto granted = authorize(caller, ns);
    if (auto* denied = std::get_if<http_response>(&granted))
      return std::move(*denied);
    const auto& resolved = std::get<std::string>(granted);
    auto i = triggers.find(trigger_ref{resolved, name}.key());
    if (i == triggers.end())
      return error_response(404, not_found_text);
    if (auto fault = next_deletion_fault(i->second))
      return scripted_reply(*fault).response;
    auto body = trigger_json(resolved, name, i->second);
    // As OpenWhisk: the trigger's rules stay, pointing at a trigger that is gone.
    triggers.erase(i);
    deletions.push_back({"trigger", trigger_ref{resolved, name}, std::string{req.field("Authorization")}});
    return json_response(200, std::move(body));
  }

  http_response on_delete_rule(const http_request& req, const std::string& ns, const std::string& name) {
    auto caller = read_credentials(req.field("Authorization"));
    std::lock_guard<std::mutex> guard{mtx};
    auto granted = authorize(caller, ns);
    if (auto* denied = std::get_if<http_response>(&granted))
      return std::move(*denied);
    const auto& resolved = std::get<std::string>(granted);
    auto rule = rules.find(resolved + '/' + name);
    if (rule == rules.end())
      return error_response(404, not_found_text);
    if (auto owner = triggers.find(rule->second.trigger); owner != triggers.end())
      if (auto fault = next_deletion_fault(owner->second))
        return scripted_reply(*fault).response;
    erase_rule(rule);
    deletions.push_back({"rule", trigger_ref{resolved, name}, std::string{req.field("Authorization")}});
    return json_response(200, rule_json(resolved, name, "inactive"));
  }

  http_response on_set_rule_status(const http_request& req, const std::string& ns, const std::string& name) {
    auto caller = read_credentials(req.field("Authorization"));
    simdjson::dom::parser parser;
    simdjson::dom::object body;
    std::string_view status;
    if (parser.parse(req.body).get(body) != simdjson::SUCCESS || body["status"].get(status) != simdjson::SUCCESS
        || (status != "active" && status != "inactive"))
      return error_response(400, malformed_text);
    std::lock_guard<std::mutex> guard{mtx};
    auto granted = authorize(caller, ns);
    if (auto* denied = std::get_if<http_response>(&granted))
      return std::move(*denied);
    auto rule = rules.find(std::get<std::string>(granted) + '/' + name);
    if (rule == rules.end())
      return error_response(404, not_found_text);
    rule->second.active = status == "active";
    return json_response(200, rule_json(std::get<std::string>(granted), name, std::string{status}));
  }

  reply on_fire(http_request& req, const std::string& ns, const std::string& name) {
    // Everything that needs no shared state happens before locking: at benchmark rates the lock is the bottleneck.
    auto received_at = now_ms();
    auto caller = read_credentials(req.field("Authorization"));
    auto payload_ok = is_payload(req.body);
    bool has_rule = false;
    std::optional<scripted_answer> fault;
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
      auto& entry = i->second;
      has_rule = has_active_rule(i->first);
      entry.attempts.push_back(received_at);
      // A hold wins over the script, which waits for the release.
      if (entry.held) {
        fault = scripted_answer::with_status(*entry.held);
      } else if (!entry.script.empty()) {
        fault = std::move(entry.script.front());
        entry.script.pop_front();
      }
      // Only an accepted fire is one: a refused or unanswered attempt fired nothing.
      if (!fault || (fault->type != scripted_answer::kind::reset && is_success(fault->status))) {
        fires.push_back(fire{trigger_ref{std::move(resolved), name}, std::string{req.field("Authorization")},
                             req.body.empty() ? std::string{"{}"} : std::move(req.body), received_at});
        fire_count.store(fires.size());
      }
    }
    if (fault)
      return scripted_reply(*fault);
    reply r{has_rule ? activation_response(202) : empty_response(204)};
    r.delay = std::chrono::milliseconds{fire_delay_ms.load()};
    return r;
  }

  /// Returns the answer the controller gives to an accepted fire: `status` with a fresh activation id.
  http_response activation_response(int status) {
    std::string body = "{\"activationId\":\"";
    append_hex_u64(body, activation_prefix);
    append_hex_u64(body, scramble(next_activation.fetch_add(1)));
    body += "\"}";
    return json_response(status, std::move(body));
  }

  reply scripted_reply(const scripted_answer& answer) {
    http_response res;
    if (!answer.body.empty())
      res = body_response(answer.status, answer.body);
    else if (answer.status == 204)
      res = empty_response(204);
    else if (is_success(answer.status))
      res = activation_response(answer.status);
    else
      res = error_response(answer.status, status_text(answer.status));
    if (!answer.retry_after.empty())
      res.fields.emplace_back("Retry-After", answer.retry_after);
    reply r{std::move(res)};
    r.close = answer.type == scripted_answer::kind::reset;
    if (answer.type == scripted_answer::kind::delay)
      r.delay = answer.delay;
    return r;
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
    std::string_view feed;
    auto feed_value = body["feed"];
    if (feed_value.error() != simdjson::NO_SUCH_FIELD && feed_value.get(feed) != simdjson::SUCCESS)
      return error_response(400, "feed must be a string", "feed");
    add_trigger(trigger_ref{ns, name}, std::string{auth_key}, has_rule, std::string{feed});
    std::lock_guard<std::mutex> guard{mtx};
    return json_response(201, trigger_json(ns, name, triggers.at(trigger_ref{ns, name}.key())));
  }

  http_response on_admin_get_trigger(const std::string& ns, const std::string& name) {
    std::lock_guard<std::mutex> guard{mtx};
    auto i = triggers.find(trigger_ref{ns, name}.key());
    if (i == triggers.end())
      return error_response(404, not_found_text);
    return json_response(200, trigger_json(ns, name, i->second));
  }

  http_response on_put_rule(const http_request& req, const std::string& ns, const std::string& name) {
    if (!is_valid_entity_name(ns) || !is_valid_entity_name(name))
      return error_response(400, "not a valid rule name", "rule");
    simdjson::dom::parser parser;
    simdjson::dom::object body;
    std::string_view trigger;
    if (parser.parse(req.body).get(body) != simdjson::SUCCESS || body["trigger"].get(trigger) != simdjson::SUCCESS)
      return error_response(400, "trigger must be a string \"ns/name\"", "trigger");
    auto parsed = parse_trigger_name(trigger);
    if (!parsed || !add_rule(ns + '/' + name, *parsed))
      return error_response(404, "no such trigger", "trigger");
    return json_response(201, rule_json(ns, name, "active"));
  }

  http_response on_get_deletions() {
    std::lock_guard<std::mutex> guard{mtx};
    std::string body = "{\"deletions\":[";
    for (const auto& d : deletions) {
      if (body.back() != '[')
        body += ',';
      body += "{\"kind\":";
      append_json_string(body, d.kind);
      body += ",\"namespace\":";
      append_json_string(body, d.entity.ns);
      body += ",\"name\":";
      append_json_string(body, d.entity.name);
      body += ",\"authorization\":";
      append_json_string(body, d.authorization);
      body += '}';
    }
    body += "]}";
    return json_response(200, std::move(body));
  }

  http_response on_delete_trigger(const std::string& ns, const std::string& name) {
    if (!remove_trigger(trigger_ref{ns, name}))
      return error_response(404, not_found_text);
    return empty_response(204);
  }

  http_response on_put_script(const http_request& req, const trigger_ref& trigger, bool deletions = false) {
    simdjson::dom::parser parser;
    simdjson::dom::object body;
    if (parser.parse(req.body).get(body) != simdjson::SUCCESS)
      return error_response(400, "the body must be a JSON object");
    simdjson::dom::array list;
    if (body["answers"].get(list) != simdjson::SUCCESS)
      return error_response(400, "answers must be an array of answers", "answers");
    std::vector<scripted_answer> answers;
    answers.reserve(list.size());
    for (auto item : list) {
      auto answer = read_answer(item, "answers[" + std::to_string(answers.size()) + ']');
      if (auto* bad = std::get_if<http_response>(&answer))
        return std::move(*bad);
      answers.push_back(std::get<scripted_answer>(std::move(answer)));
    }
    if (!(deletions ? set_deletion_script(trigger, std::move(answers)) : set_script(trigger, std::move(answers))))
      return error_response(404, not_found_text);
    return empty_response(204);
  }

  http_response on_put_hold(const http_request& req, const trigger_ref& trigger) {
    int status = default_fault_status;
    // An empty body holds at the default status, which suits `curl -X PUT`.
    if (!req.body.empty()) {
      simdjson::dom::parser parser;
      simdjson::dom::object body;
      if (parser.parse(req.body).get(body) != simdjson::SUCCESS)
        return error_response(400, "the body must be a JSON object");
      if (auto value = body["status"]; value.error() != simdjson::NO_SUCH_FIELD) {
        auto read = read_status(value.value_unsafe(), "status");
        if (auto* bad = std::get_if<http_response>(&read))
          return std::move(*bad);
        status = std::get<int>(read);
      }
    }
    if (!set_hold(trigger, status))
      return error_response(404, not_found_text);
    return empty_response(204);
  }

  http_response on_delete_hold(const trigger_ref& trigger) {
    if (!set_hold(trigger, std::nullopt))
      return error_response(404, not_found_text);
    return empty_response(204);
  }

  http_response on_get_attempts(const trigger_ref& trigger) {
    auto times = copy_attempts(trigger);
    if (!times)
      return error_response(404, not_found_text);
    std::string body = "{\"count\":" + std::to_string(times->size()) + ",\"times\":[";
    for (auto t : *times) {
      if (body.back() != '[')
        body += ',';
      append_json_string(body, format_iso8601(t));
    }
    body += "]}";
    return json_response(200, std::move(body));
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

  /// Returns the trigger's update time. A replaced trigger keeps its script, hold and attempts.
  sys_ms add_trigger(const trigger_ref& trigger, const std::string& auth_key, bool has_rule, std::string feed = {}) {
    auto updated = now_ms();
    std::lock_guard<std::mutex> guard{mtx};
    auto& entry = triggers[trigger.key()];
    entry.auth_key = auth_key;
    entry.updated = updated;
    entry.feed = std::move(feed);
    // Its one rule, "{ns}/{name}-rule", or none.
    auto default_rule = trigger.key() + "-rule";
    if (has_rule)
      put_rule(default_rule, trigger.key());
    else if (auto rule = rules.find(default_rule); rule != rules.end())
      erase_rule(rule);
    auto& owned = namespaces[auth_key];
    if (std::find(owned.begin(), owned.end(), trigger.ns) == owned.end())
      owned.push_back(trigger.ns);
    return updated;
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
    for (auto& [key, entry] : triggers)
      entry.attempts.clear();
  }

  /// Returns whether the trigger exists (and was given the script).
  bool set_script(const trigger_ref& trigger, std::vector<scripted_answer> answers) {
    std::lock_guard<std::mutex> guard{mtx};
    auto i = triggers.find(trigger.key());
    if (i == triggers.end())
      return false;
    i->second.script.assign(std::make_move_iterator(answers.begin()), std::make_move_iterator(answers.end()));
    return true;
  }

  /// Returns whether the trigger exists (and was given the script of its deletion requests).
  bool set_deletion_script(const trigger_ref& trigger, std::vector<scripted_answer> answers) {
    std::lock_guard<std::mutex> guard{mtx};
    auto i = triggers.find(trigger.key());
    if (i == triggers.end())
      return false;
    i->second.deletion_script.assign(std::make_move_iterator(answers.begin()), std::make_move_iterator(answers.end()));
    return true;
  }

  /// Adds the rule "ns/rule" to `trigger`; returns whether the trigger exists.
  bool add_rule(const std::string& rule, const trigger_ref& trigger) {
    std::lock_guard<std::mutex> guard{mtx};
    if (triggers.count(trigger.key()) == 0)
      return false;
    put_rule(rule, trigger.key());
    return true;
  }

  /// Points the rule "ns/rule" at the trigger with key `trigger`, active (a rule of another trigger moves).
  void put_rule(const std::string& rule, const std::string& trigger) {
    if (auto old = rules.find(rule); old != rules.end())
      erase_rule(old);
    rules.emplace(rule, rule_entry{trigger, true});
    rules_by_trigger[trigger].insert(rule);
  }

  void erase_rule(std::map<std::string, rule_entry>::iterator rule) {
    auto owned = rules_by_trigger.find(rule->second.trigger);
    if (owned != rules_by_trigger.end()) {
      owned->second.erase(rule->first);
      if (owned->second.empty())
        rules_by_trigger.erase(owned);
    }
    rules.erase(rule);
  }

  /// Returns the names of the rules that point at the trigger with key `trigger`, in name order.
  const std::set<std::string>& rule_names(const std::string& trigger) const {
    static const std::set<std::string> none;
    auto owned = rules_by_trigger.find(trigger);
    return owned == rules_by_trigger.end() ? none : owned->second;
  }

  /// Holds the trigger at `status`, or releases it when nullopt; returns whether the trigger exists.
  bool set_hold(const trigger_ref& trigger, std::optional<int> status) {
    std::lock_guard<std::mutex> guard{mtx};
    auto i = triggers.find(trigger.key());
    if (i == triggers.end())
      return false;
    i->second.held = status;
    return true;
  }

  /// Returns the arrival times of the trigger's attempts, or nullopt for an unknown trigger.
  std::optional<std::vector<sys_ms>> copy_attempts(const trigger_ref& trigger) const {
    std::lock_guard<std::mutex> guard{mtx};
    auto i = triggers.find(trigger.key());
    if (i == triggers.end())
      return std::nullopt;
    return i->second.attempts;
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

  /// Returns whether a rule of the trigger with key `key` is active: a fire of a trigger without one gets 204.
  bool has_active_rule(const std::string& key) const {
    const auto& names = rule_names(key);
    return std::any_of(names.begin(), names.end(), [&](const auto& rule) { return rules.at(rule).active; });
  }

  /// Takes the next scripted answer to a request that reads or deletes the trigger of `entry` or its rules.
  static std::optional<scripted_answer> next_deletion_fault(trigger_entry& entry) {
    if (entry.deletion_script.empty())
      return std::nullopt;
    auto fault = std::move(entry.deletion_script.front());
    entry.deletion_script.pop_front();
    return fault;
  }

  /// Returns the trigger as the controller shows it: its "feed" annotation, and its rules keyed "ns/rule".
  std::string trigger_json(const std::string& ns, const std::string& name, const trigger_entry& entry) const {
    std::string body = "{\"namespace\":";
    append_json_string(body, ns);
    body += ",\"name\":";
    append_json_string(body, name);
    body += R"(,"version":"0.0.1","publish":false,"annotations":[)";
    if (!entry.feed.empty()) {
      body += R"({"key":"feed","value":)";
      append_json_string(body, entry.feed);
      body += '}';
    }
    body += R"(],"parameters":[],"limits":{},"updated":)";
    body += std::to_string(entry.updated.time_since_epoch().count());
    body += ",\"rules\":{";
    auto key = trigger_ref{ns, name}.key();
    bool first = true;
    // Through the index: a scan of every rule made each CREATE of 100 000 triggers cost a pass over all of them.
    for (const auto& rule : rule_names(key)) {
      const auto& target = rules.at(rule);
      if (!first)
        body += ',';
      first = false;
      append_json_string(body, rule);
      auto rule_name = rule.substr(rule.find('/') + 1);
      body += ":{\"status\":";
      append_json_string(body, target.active ? "active" : "inactive");
      body += ",\"action\":{\"name\":";
      append_json_string(body, rule_name + "-action");
      body += ",\"path\":";
      append_json_string(body, ns);
      body += "}}";
    }
    body += "}}";
    return body;
  }

  /// Returns a rule as the controller shows it.
  static std::string rule_json(const std::string& ns, const std::string& name, const std::string& status) {
    std::string body = "{\"namespace\":";
    append_json_string(body, ns);
    body += ",\"name\":";
    append_json_string(body, name);
    body += ",\"status\":";
    append_json_string(body, status);
    body += '}';
    return body;
  }

  // -- member variables -------------------------------------------------------

  // An activation id is the prefix followed by the scrambled counter: unique (the scramble is a bijection), and
  // random-looking from the first id on because the counter starts at a random value.
  const std::uint64_t activation_prefix;
  std::atomic<std::uint64_t> next_activation;
  std::uint16_t port = 0; ///< set once in the constructor
  std::string scheme = "http"; ///< set once in the constructor

  mutable std::mutex mtx;
  mutable std::condition_variable recorded; ///< notified after each request, once it is answered
  std::unordered_map<std::string, trigger_entry> triggers; ///< by trigger_ref::key()
  /// Rules by "ns/rule", in name order; a trigger's rules are those that point at it.
  std::map<std::string, rule_entry> rules;
  /// Trigger key -> the names of the rules that point at it: what a trigger's JSON lists, without a scan of `rules`.
  std::unordered_map<std::string, std::set<std::string>> rules_by_trigger;
  std::vector<deletion> deletions; ///< every trigger and rule deleted through the API, in order
  std::unordered_map<std::string, std::vector<std::string>> namespaces; ///< by "uuid:key"; the first is the default
  std::vector<fire> fires;
  std::atomic<std::size_t> fire_count{0}; ///< fires.size(), written under mtx, read without it
  std::atomic<std::int64_t> fire_delay_ms{0}; ///< answer_fires_after()
  http_server_ptr server; ///< under mtx; stop() takes it out
  delayed_answers delayed; ///< has its own lock
};

// -- fake_controller ----------------------------------------------------------

fake_controller::fake_controller(io_runtime& io, std::uint16_t port, std::optional<tls_files> tls)
  : state_(std::make_shared<state>()) {
  http_server::options opts;
  opts.host = "127.0.0.1";
  opts.port = port;
  if (tls) {
    opts.tls_cert_file = tls->cert_file;
    opts.tls_key_file = tls->key_file;
    state_->scheme = "https";
  }
  // A weak reference: the state owns the server, and a strong one here would keep both alive forever.
  std::weak_ptr<state> weak = state_;
  auto server = start_http_server(io, opts, [weak](http_request req, http_server::responder respond) {
    if (auto self = weak.lock())
      self->serve(req, std::move(respond));
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
  return state_->scheme + "://127.0.0.1:" + std::to_string(state_->port);
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

void fake_controller::add_rule(const trigger_ref& rule, const trigger_ref& trigger) {
  if (!state_->add_rule(rule.key(), trigger))
    throw std::invalid_argument("fake_controller::add_rule: no trigger " + trigger.key());
}

void fake_controller::set_feed(const trigger_ref& trigger, const std::string& feed) {
  std::lock_guard<std::mutex> guard{state_->mtx};
  auto i = state_->triggers.find(trigger.key());
  if (i == state_->triggers.end())
    throw std::invalid_argument("fake_controller::set_feed: no trigger " + trigger.key());
  i->second.feed = feed;
}

bool fake_controller::has_trigger(const trigger_ref& trigger) const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->triggers.count(trigger.key()) > 0;
}

std::vector<std::string> fake_controller::rules_of(const trigger_ref& trigger) const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  const auto& names = state_->rule_names(trigger.key());
  return {names.begin(), names.end()};
}

std::vector<fake_controller::deletion> fake_controller::deletions() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  std::vector<deletion> result;
  for (const auto& d : state_->deletions)
    result.push_back({d.kind, d.entity, d.authorization});
  return result;
}

void fake_controller::script_deletions(const trigger_ref& trigger, std::vector<scripted_answer> answers) {
  if (!state_->set_deletion_script(trigger, std::move(answers)))
    throw std::invalid_argument("fake_controller::script_deletions: no trigger " + trigger.key());
}

std::vector<fake_controller::fire> fake_controller::fires() const {
  return state_->copy_fires();
}

std::size_t fake_controller::fire_count() const {
  return state_->fire_count.load();
}

bool fake_controller::wait_for_fires(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> guard{state_->mtx};
  return state_->recorded.wait_for(guard, timeout, [&] { return state_->fires.size() >= n; });
}

void fake_controller::clear_fires() {
  state_->clear_fires();
}

void fake_controller::script(const trigger_ref& trigger, std::vector<scripted_answer> answers) {
  if (!state_->set_script(trigger, std::move(answers)))
    throw std::invalid_argument("fake_controller::script: no trigger " + trigger.key());
}

void fake_controller::hold(const trigger_ref& trigger, int status) {
  if (!state_->set_hold(trigger, status))
    throw std::invalid_argument("fake_controller::hold: no trigger " + trigger.key());
}

void fake_controller::release(const trigger_ref& trigger) {
  state_->set_hold(trigger, std::nullopt);
}

void fake_controller::answer_fires_after(std::chrono::milliseconds delay) {
  state_->fire_delay_ms.store(delay.count());
}

std::size_t fake_controller::attempt_count(const trigger_ref& trigger) const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  auto i = state_->triggers.find(trigger.key());
  return i == state_->triggers.end() ? 0 : i->second.attempts.size();
}

std::vector<sys_ms> fake_controller::attempt_times(const trigger_ref& trigger) const {
  return state_->copy_attempts(trigger).value_or(std::vector<sys_ms>{});
}

bool fake_controller::wait_for_attempts(const trigger_ref& trigger, std::size_t n,
                                        std::chrono::milliseconds timeout) const {
  auto key = trigger.key();
  std::unique_lock<std::mutex> guard{state_->mtx};
  return state_->recorded.wait_for(guard, timeout, [&] {
    auto i = state_->triggers.find(key);
    return (i == state_->triggers.end() ? 0 : i->second.attempts.size()) >= n;
  });
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
  // After the server: the connections are closed by then, so answers still pending are dropped, not sent.
  state_->delayed.stop();
}

} // namespace feedrouter

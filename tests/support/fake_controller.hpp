#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/time_format.hpp"
#include "core/trigger_ref.hpp"

namespace feedrouter {

class io_runtime;

/// A stand-in for the OpenWhisk controller: owns triggers per namespace and key, answers fires like the real one and
/// records every fire so tests can assert on them. Also the sink of the benchmark.
///
/// Routes (Basic auth with the owner's "uuid:key" on /api routes; path segments are percent-decoded; `_` as the
/// namespace means the key's first namespace, as in OpenWhisk):
/// - `GET  /api/v1/namespaces`                         -> 200 ["ns", ...] (the key's namespaces), 401 unknown key
/// - `GET  /api/v1/namespaces/{ns}/triggers/{name}`    -> 200 trigger JSON (its "feed" annotation, its "rules" keyed
///   "ns/rule"), 401 no or unknown key, 403 key of another namespace, 404 no such trigger
/// - `DELETE /api/v1/namespaces/{ns}/triggers/{name}`  -> 200 trigger JSON, the trigger gone (its rules stay, as in
///   OpenWhisk); 401/403/404 as above
/// - `DELETE /api/v1/namespaces/{ns}/rules/{name}`     -> 200 rule JSON, the rule gone; 401/403/404 as above
/// - `POST /api/v1/namespaces/{ns}/rules/{name}` body {"status": "active"|"inactive"} -> 200 rule JSON
/// - `POST /api/v1/namespaces/{ns}/triggers/{name}`    -> 202 {"activationId": "<32 hex>"}, or 204 when the trigger has
///   no rule; 401/403/404 as above; 400 {"error": "The request content was malformed"} when the body is neither
///   empty nor a JSON object. Every fire answered 2xx is recorded, with an empty body recorded as "{}".
/// - `PUT  /_fake/triggers/{ns}/{name}` body {"authKey": "uuid:key", "rule": true, "feed": "/ns/pkg/feed"} -> 201
///   trigger JSON (admin, no auth; creates or replaces; "rule" defaults to true and stands for the rule
///   "{ns}/{name}-rule"; "feed" is the feed annotation, none by default), 400 {"error", "field"} on a bad body or name
/// - `GET  /_fake/triggers/{ns}/{name}`                -> 200 trigger JSON, 404 when gone (admin)
/// - `PUT  /_fake/rules/{ns}/{name}` body {"trigger": "ns/name"} -> 201 (admin: adds an active rule of the trigger)
/// - `GET  /_fake/deletions`                           -> 200 {"deletions": [{"kind": "trigger"|"rule", "namespace",
///   "name", "authorization"}]}: what the API deleted, in order
/// - `PUT  /_fake/triggers/{ns}/{name}/deletion-script` body {"answers": [...]} -> 204: answers, as script() takes
///   them, to the next requests that read the trigger, delete it or delete one of its rules
/// - `DELETE /_fake/triggers/{ns}/{name}`              -> 204, 404 when unknown
/// - `GET  /_fake/fires`                               -> 200 {"count": N, "fires": [{"namespace", "trigger",
///   "authorization", "body" (the JSON object itself), "receivedAt" (ISO-8601)}]}
/// - `GET  /_fake/fires/count`                         -> 200 {"count": N}, cheap enough to poll during a benchmark
/// - `DELETE /_fake/fires`                             -> 204, forgets recorded fires and attempts
/// - `PUT  /_fake/triggers/{ns}/{name}/script` body {"answers": [{"status": 429, "retryAfter": "1"}, {"status": 503},
///   {"delayMs": 3000, "status": 202}, {"reset": true}, {"status": 413, "body": "..."}]} -> 204 (see script(); each
///   answer takes "status" (100-599, default 503), "retryAfter" (string or integer), "body" (a string is sent as is,
///   other JSON minified), "delayMs" (0 to 600000: a slow answer), or "reset": true alone; an empty list clears the
///   script), 400 {"error", "field"} on a bad body (the field is e.g. "answers[2].delayMs"), 404 unknown trigger
/// - `PUT  /_fake/triggers/{ns}/{name}/hold` body {"status": 503} -> 204 (see hold(); "status" defaults to 503),
///   400 on a bad body, 404 unknown trigger
/// - `DELETE /_fake/triggers/{ns}/{name}/hold`         -> 204 (see release()), 404 unknown trigger
/// - `GET  /_fake/triggers/{ns}/{name}/attempts`       -> 200 {"count": N, "times": ["<ISO-8601>", ...]} (see
///   attempt_times()), 404 unknown trigger
///
/// Anything else is 404 (or 405 for a known path with another method) with {"error": "..."}. All methods are
/// thread-safe; the server's handlers run on the I/O threads of the runtime, which must outlive this object.
///
/// Faults for delivery tests: an *attempt* is a fire that passed the 401/403/400/404 checks above. Each attempt is
/// recorded (attempt_count(), attempt_times()) and answered, in this order of precedence, with the held status
/// (hold()), or the next scripted answer (script()), or as usual. An attempt answered 2xx is also recorded as a fire,
/// on arrival even when the answer is slow: the controller fired the trigger whether or not the client waits for it.
class fake_controller {
public:
  // -- member types -----------------------------------------------------------

  /// One recorded fire.
  struct fire {
    trigger_ref trigger;
    std::string authorization; ///< the Authorization header as sent
    std::string body;          ///< the JSON object sent, "{}" when the request had no body
    sys_ms received_at;
  };

  /// One answer to a fire in place of the usual one.
  struct scripted_answer {
    enum class kind {
      status, ///< answers `status` at once
      delay,  ///< answers `status` once `delay` has passed, from a thread of the controller: no I/O thread waits
      reset,  ///< closes the connection without answering; the client reads end of stream (a FIN, not a TCP RST)
    };

    kind type = kind::status;
    int status = 503;        ///< 100 to 599
    std::string retry_after; ///< the Retry-After header's value; no header when empty
    std::string body; ///< sent as is (JSON or text/plain); when empty, {"error": ...} or, for 2xx, an activation id
    std::chrono::milliseconds delay{0}; ///< for kind::delay

    /// Returns an answer of `status` at once, with a Retry-After header when `retry_after` is not empty.
    static scripted_answer with_status(int status, std::string retry_after = {}) {
      scripted_answer answer;
      answer.status = status;
      answer.retry_after = std::move(retry_after);
      return answer;
    }

    /// Returns an answer of `status` sent once `delay` has passed.
    static scripted_answer after(std::chrono::milliseconds delay, int status) {
      scripted_answer answer;
      answer.type = kind::delay;
      answer.status = status;
      answer.delay = delay;
      return answer;
    }

    /// Returns a connection closed without an answer.
    static scripted_answer reset() {
      scripted_answer answer;
      answer.type = kind::reset;
      return answer;
    }
  };

  // -- constructors -----------------------------------------------------------

  /// PEM certificate and key files of a controller that speaks https.
  struct tls_files {
    std::string cert_file;
    std::string key_file;
  };

  /// Starts listening on 127.0.0.1:`port` (0 = a free port) on `io`; with `tls`, it speaks https.
  explicit fake_controller(io_runtime& io, std::uint16_t port = 0, std::optional<tls_files> tls = std::nullopt);
  ~fake_controller();

  fake_controller(const fake_controller&) = delete;
  fake_controller& operator=(const fake_controller&) = delete;

  // -- triggers and fires -----------------------------------------------------

  /// Returns "http://127.0.0.1:PORT" (https with TLS).
  std::string url() const;

  /// Returns the port it listens on.
  std::uint16_t port() const;

  /// Creates (or replaces) a trigger owned by `auth_key` ("uuid:key"), whose namespace becomes one of the key's
  /// namespaces (and stays one when the trigger is removed).
  void add_trigger(const trigger_ref& trigger, const std::string& auth_key, bool has_rule = true);

  /// Deletes a trigger; later fires for it get 404.
  void remove_trigger(const trigger_ref& trigger);

  /// One trigger or rule deleted through the API.
  struct deletion {
    std::string kind; ///< "trigger" or "rule"
    trigger_ref entity; ///< its namespace and name
    std::string authorization; ///< the Authorization header as sent
  };

  /// Adds the active rule `rule` ("ns", "rule") of `trigger`. Throws std::invalid_argument for an unknown trigger.
  void add_rule(const trigger_ref& rule, const trigger_ref& trigger);

  /// Sets the trigger's "feed" annotation. Throws std::invalid_argument for an unknown trigger.
  void set_feed(const trigger_ref& trigger, const std::string& feed);

  /// Returns whether the trigger exists (it was added and not deleted).
  bool has_trigger(const trigger_ref& trigger) const;

  /// Returns the rules ("ns/rule") that point at `trigger`, in name order.
  std::vector<std::string> rules_of(const trigger_ref& trigger) const;

  /// Returns every trigger and rule deleted through the API, in order.
  std::vector<deletion> deletions() const;

  /// Answers the next requests that read `trigger`, delete it or delete one of its rules with `answers`, as script()
  /// does for fires. Throws std::invalid_argument for an unknown trigger.
  void script_deletions(const trigger_ref& trigger, std::vector<scripted_answer> answers);

  /// Returns every fire recorded so far, oldest first.
  std::vector<fire> fires() const;

  /// Returns how many fires were recorded so far; takes no lock.
  std::size_t fire_count() const;

  /// Blocks until at least `n` fires were recorded or `timeout` passed; returns whether they were. Woken by each fire
  /// (a condition variable), so it never sleeps longer than needed.
  bool wait_for_fires(std::size_t n, std::chrono::milliseconds timeout) const;

  /// Forgets recorded fires, and the attempts of every trigger; scripts and holds stay.
  void clear_fires();

  // -- faults -----------------------------------------------------------------

  /// Answers the next attempts on `trigger` with `answers`, one each, in order; once they are used up, fires are
  /// answered as usual again. Replaces any earlier script; an empty list clears it. The script stays when the trigger
  /// is replaced (add_trigger) and goes with it when removed. Throws std::invalid_argument for an unknown trigger.
  ///
  /// Note that net/http_client sends a request again, once, on a fresh connection when a kept-alive one closes
  /// before any byte of the answer: a reset on a reused connection consumes the next answer too.
  void script(const trigger_ref& trigger, std::vector<scripted_answer> answers);

  /// Answers every attempt on `trigger` with `status` (and the usual body for it) until release(), leaving the script
  /// for afterwards. Throws std::invalid_argument for an unknown trigger.
  void hold(const trigger_ref& trigger, int status);

  /// Ends a hold(); does nothing when there is none.
  void release(const trigger_ref& trigger);

  /// Answers every fire (of any trigger) that neither a hold nor a script answers `delay` after it arrived, as a
  /// controller that cannot keep up does; zero, the default, answers at once. Other requests are not slowed.
  void answer_fires_after(std::chrono::milliseconds delay);

  /// Returns how many attempts reached `trigger` (its real namespace, not `_`), whatever they were answered.
  std::size_t attempt_count(const trigger_ref& trigger) const;

  /// Returns when each attempt on `trigger` arrived, oldest first, to check the spacing of retries.
  std::vector<sys_ms> attempt_times(const trigger_ref& trigger) const;

  /// Blocks until at least `n` attempts reached `trigger` or `timeout` passed; returns whether they did. Like
  /// wait_for_fires(), it is woken once each request is answered, so the answer of the n-th attempt is on its way by
  /// then: sent, queued when slow, or the connection closing.
  bool wait_for_attempts(const trigger_ref& trigger, std::size_t n, std::chrono::milliseconds timeout) const;

  // -- lifetime ---------------------------------------------------------------

  /// Stops listening and joins the thread of slow answers; idempotent. Slow answers still pending go out at once,
  /// and are dropped with their connections, which are closed by then.
  void stop();

private:
  struct state;
  std::shared_ptr<state> state_;
};

} // namespace feedrouter

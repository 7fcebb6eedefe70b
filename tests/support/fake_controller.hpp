#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
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
/// - `GET  /api/v1/namespaces/{ns}/triggers/{name}`    -> 200 trigger JSON, 401 no or unknown key, 403 key of another
///   namespace, 404 no such trigger
/// - `POST /api/v1/namespaces/{ns}/triggers/{name}`    -> 202 {"activationId": "<32 hex>"}, or 204 when the trigger has
///   no rule; 401/403/404 as above; 400 {"error": "The request content was malformed"} when the body is neither
///   empty nor a JSON object. Every fire answered 202 or 204 is recorded, with an empty body recorded as "{}".
/// - `PUT  /_fake/triggers/{ns}/{name}` body {"authKey": "uuid:key", "rule": true} -> 201 trigger JSON (admin, no
///   auth; creates or replaces; "rule" defaults to true), 400 {"error", "field"} on a bad body or name
/// - `DELETE /_fake/triggers/{ns}/{name}`              -> 204, 404 when unknown
/// - `GET  /_fake/fires`                               -> 200 {"count": N, "fires": [{"namespace", "trigger",
///   "authorization", "body" (the JSON object itself), "receivedAt" (ISO-8601)}]}
/// - `GET  /_fake/fires/count`                         -> 200 {"count": N}, cheap enough to poll during a benchmark
/// - `DELETE /_fake/fires`                             -> 204, forgets recorded fires
///
/// Anything else is 404 (or 405 for a known path with another method) with {"error": "..."}. All methods are
/// thread-safe; the server's handlers run on the I/O threads of the runtime, which must outlive this object.
class fake_controller {
public:
  /// One recorded fire.
  struct fire {
    trigger_ref trigger;
    std::string authorization; ///< the Authorization header as sent
    std::string body;          ///< the JSON object sent, "{}" when the request had no body
    sys_ms received_at;
  };

  /// Starts listening on 127.0.0.1:`port` (0 = a free port) on `io`.
  explicit fake_controller(io_runtime& io, std::uint16_t port = 0);
  ~fake_controller();

  fake_controller(const fake_controller&) = delete;
  fake_controller& operator=(const fake_controller&) = delete;

  /// Returns "http://127.0.0.1:PORT".
  std::string url() const;

  /// Returns the port it listens on.
  std::uint16_t port() const;

  /// Creates (or replaces) a trigger owned by `auth_key` ("uuid:key"), whose namespace becomes one of the key's
  /// namespaces (and stays one when the trigger is removed).
  void add_trigger(const trigger_ref& trigger, const std::string& auth_key, bool has_rule = true);

  /// Deletes a trigger; later fires for it get 404.
  void remove_trigger(const trigger_ref& trigger);

  /// Returns every fire recorded so far, oldest first.
  std::vector<fire> fires() const;

  /// Returns how many fires were recorded so far; takes no lock.
  std::size_t fire_count() const;

  /// Blocks until at least `n` fires were recorded or `timeout` passed; returns whether they were. Woken by each fire
  /// (a condition variable), so it never sleeps longer than needed.
  bool wait_for_fires(std::size_t n, std::chrono::milliseconds timeout) const;

  /// Forgets recorded fires.
  void clear_fires();

  /// Stops listening; idempotent.
  void stop();

private:
  struct state;
  std::shared_ptr<state> state_;
};

} // namespace feedrouter

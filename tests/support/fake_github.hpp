#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace feedrouter {

class io_runtime;

/// A stand-in for GitHub's repository webhooks API and its deliveries, on 127.0.0.1 (docs/github-feed.md).
///
/// API routes, answered as GitHub answers them (bodies `{"message", "documentation_url", "status"}` on errors):
/// - `POST   /repos/{owner}/{repo}/hooks`        -> 201 the hook (its secret shown as "********"); 422 "Hook already
///   exists on this repository" when a hook with the same config.url and an overlapping event exists, or when
///   `name` is not "web" or an event is not lower case; before answering 201 it POSTs a signed `ping` to the hook's
///   URL, so that the ping arrives before the creator has its answer (the race a provider must survive); the 201
///   waits while hold_creates() holds
/// - `GET    /repos/{owner}/{repo}/hooks?per_page=N&page=P` -> 200 the hooks, N (default 30, at most 100) per page
/// - `PATCH  /repos/{owner}/{repo}/hooks/{id}`   -> 200 the hook with `active`, `events` and `config` changed; 404
/// - `DELETE /repos/{owner}/{repo}/hooks/{id}`   -> 204; 404 when there is no such hook
///
/// Admin routes for tests in other processes (no auth):
/// - `GET  /_fake/repos/{owner}/{repo}/hooks`          -> 200 [{"id", "url", "secret", "active", "events",
///   "contentType", "insecureSsl"}]
/// - `POST /_fake/repos/{owner}/{repo}/events/{event}` body: the event's JSON -> 200 [{"id", "hookId", "event",
///   "status", "answer"}], the deliveries to every active hook that takes the event, once the receivers answered
/// - `POST /_fake/deliveries/{id}/redeliver`           -> 200 {"id", ...} as above; 404 for an unknown delivery
/// - `PUT  /_fake/down` body {"down": true|false}      -> 204 (see set_down())
///
/// Every API request needs a User-Agent (403 without) and `Authorization: Bearer TOKEN` or `token TOKEN` with a
/// token given to add_token() (401 "Bad credentials" otherwise); a repository not added with add_repository() is 404,
/// as GitHub answers for a repository the token may not see. While set_down() holds, every API request is answered
/// 503. Methods are thread-safe; the runtime must outlive the object.
class fake_github {
public:
  /// A hook as GitHub keeps it.
  struct hook {
    std::int64_t id = 0;
    std::string repository; ///< "owner/repo"
    std::string url;        ///< config.url
    std::string secret;     ///< config.secret as given (GitHub never shows it; tests may look)
    std::string content_type;
    std::string insecure_ssl;
    std::vector<std::string> events;
    bool active = true;
  };

  /// A delivery POSTed to a hook URL, and how the receiver answered it.
  struct delivery {
    std::string id; ///< X-GitHub-Delivery
    std::int64_t hook_id = 0;
    std::string event; ///< X-GitHub-Event
    std::string body;
    int status = 0; ///< the receiver's answer, 0 when none came
    std::string answer;
  };

  explicit fake_github(io_runtime& io);
  ~fake_github();

  fake_github(const fake_github&) = delete;
  fake_github& operator=(const fake_github&) = delete;

  /// Returns the API's base URL, "http://127.0.0.1:PORT".
  std::string url() const;

  /// Lets `token` administer the hooks of every repository added.
  void add_token(const std::string& token);

  /// Makes repository "owner/repo" exist.
  void add_repository(const std::string& full_name);

  /// Answers every API request 503 while `down` is true (deliveries are not affected).
  void set_down(bool down);

  /// From now on holds the 201 of each hook creation until release_creates(): the hook exists and was pinged, and its
  /// creator waits for the answer (a slow GitHub, during which a test can move things under the creator).
  void hold_creates();

  /// Sends the 201s held so far and answers creations at once again.
  void release_creates();

  /// Blocks until `n` creations are held or `timeout` passed; returns whether they are. Woken by each hold.
  bool wait_for_held_creates(std::size_t n, std::chrono::milliseconds timeout) const;

  /// Returns the hooks of repository "owner/repo", oldest first.
  std::vector<hook> hooks(const std::string& full_name) const;

  /// Returns the API requests answered so far whose method is `method` ("DELETE", ...).
  std::size_t requests(const std::string& method) const;

  /// Blocks until `n` API requests with method `method` have been answered or `timeout` passed; returns whether they
  /// were. Woken by each answer, never by a timer.
  bool wait_for_requests(const std::string& method, std::size_t n, std::chrono::milliseconds timeout) const;

  /// Returns every delivery sent so far, pings included, oldest first.
  std::vector<delivery> deliveries() const;

  /// POSTs event `event` with `body` to every active hook of `full_name` that takes it, signed with each hook's
  /// secret, and returns those deliveries with the receivers' answers (waits for them).
  std::vector<delivery> deliver(const std::string& full_name, const std::string& event, const std::string& body);

  /// POSTs the delivery `id` again, as GitHub's "Redeliver" does: same body, event and X-GitHub-Delivery.
  delivery redeliver(const std::string& id);

private:
  struct state;
  std::shared_ptr<state> state_;
};

} // namespace feedrouter

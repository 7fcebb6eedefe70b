#pragma once

#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "scripted_http_client.hpp"

namespace feedrouter::test {

/// What the stand-in parent of a source received, and how it answers.
struct parent_log {
  // -- what arrived ---------------------------------------------------------------------

  std::vector<std::vector<std::string>> committed; ///< bodies of each items request it answered with commit
  std::vector<std::string> checkpoints;            ///< the checkpoint of each committed request
  std::size_t refused = 0;                         ///< items requests answered with an error
  std::vector<std::string> statuses;               ///< errors of (source_status_atom, error); "" for recovery
  std::vector<std::pair<int, std::string>> disables;

  // -- how it answers ----------------------------------------------------------------

  bool refuse_items = false; ///< answer items requests with an error, as a busy or paused trigger does
  /// Refuse items requests with more bodies than this, as a trigger does whose buffer bound they would exceed.
  std::size_t max_bodies = std::numeric_limits<std::size_t>::max();

  /// Returns every committed body, in order.
  std::vector<std::string> bodies() const;

  /// Returns the newest committed checkpoint, or "" when none.
  std::string checkpoint() const {
    return checkpoints.empty() ? std::string{} : checkpoints.back();
  }
};

using parent_log_ptr = std::shared_ptr<parent_log>;

/// A config that runs actors on CAF's testing scheduler, with simulated time.
struct testing_config : caf::actor_system_config {
  testing_config();
};

/// An actor system on the testing scheduler, a scripted HTTP client, and a stand-in parent for sources.
class source_fixture {
public:
  source_fixture();
  ~source_fixture();

  /// Spawns a stand-in trigger that starts a poll source with `params_json` (validated by parse_poll_spec), starting
  /// from `checkpoint`, and runs until the source waits for something. Its log is `log`.
  caf::actor spawn_poll(std::string_view params_json, std::string checkpoint = {}, std::string fire_body = "{}");

  /// Spawns a poll source as spawn_poll() does, but without an HTTP client.
  caf::actor spawn_poll_without_client(std::string_view params_json);

  /// Stops `parent` and with it its source, as a registration being paused or the service stopping does.
  void stop(const caf::actor& parent);

  /// Runs every message that is due.
  void run();

  /// Moves simulated time forward by `d`, then runs what became due.
  void advance(caf::timespan d);

  /// Answers the oldest request with `status`, `body` and `fields`, then runs what follows.
  void respond(int status, std::string body = {}, http_fields fields = {});

  testing_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  std::shared_ptr<scripted_http_client> client;
  parent_log_ptr log;

private:
  caf::actor spawn_parent(std::string_view params_json, std::string checkpoint, std::string fire_body,
                          http_client_ptr with);

  std::vector<caf::actor> parents_;
};

} // namespace feedrouter::test

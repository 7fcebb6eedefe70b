#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/redis_client.hpp"

namespace feedrouter::test {

/// One exchange a scripted connection was asked for.
struct scripted_exchange {
  std::vector<std::vector<std::string>> commands;
  std::chrono::milliseconds timeout{0};
  std::function<void(redis_replies)> done;
};

/// What the connections of a scripted connector were asked to do; tests answer connects and exchanges as the client's
/// I/O thread would.
struct scripted_redis_log {
  std::deque<std::function<void(redis_connected)>> connects; ///< connect() calls not answered yet
  std::size_t connects_asked = 0;
  std::deque<scripted_exchange> exchanges; ///< exchanges not answered yet, oldest first
  std::vector<std::vector<std::string>> sent; ///< every command of every exchange, in order
  std::size_t closes = 0;
  bool room = true; ///< what has_room() answers
};

/// A redis_connector whose connections the test scripts.
class scripted_redis_connector : public redis_connector {
public:
  scripted_redis_connector();

  // -- redis_connector ---------------------------------------------------------

  void connect(const redis_server& server, std::chrono::milliseconds timeout,
               std::function<void(redis_connected)> done) override;
  bool has_room() const override;

  // -- scripting ---------------------------------------------------------------

  /// Answers the oldest connect with a connection; requires one.
  void accept();

  /// Answers the oldest connect with `failure`; requires one.
  void refuse(redis_failure failure);

  /// Answers the oldest exchange with `replies`; requires one.
  void reply(std::vector<resp_value> replies);

  /// Fails the oldest exchange with `failure`, as a broken connection does; requires one.
  void fail(redis_failure failure);

  std::shared_ptr<scripted_redis_log> log;
};

// -- replies --------------------------------------------------------------------------------------------------------

resp_value ok_reply();
resp_value error_reply(std::string line);
resp_value null_reply();

/// Returns an XREAD reply for stream `stream` holding entries with `ids`, each with the field "n" = its ID.
resp_value entries_reply(const std::string& stream, const std::vector<std::string>& ids);

/// Returns an XREVRANGE reply of one entry `id`, or of none when `id` is empty.
resp_value last_entry_reply(const std::string& id);

} // namespace feedrouter::test

#pragma once

// What the MQTT client tests share: a connector on its own I/O thread, and a recorder of a connection's updates that
// the test waits on.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "net/io_runtime.hpp"
#include "net/mqtt_client.hpp"

namespace feedrouter::test {

/// How long a test waits for an update that must come; reached only when something is broken.
inline constexpr std::chrono::seconds update_timeout{20};

/// The updates of one connection, in order, as its handler got them.
class update_recorder {
public:
  /// Returns the handler to give the connector; it may outlive the test's view of the recorder.
  static std::pair<std::shared_ptr<update_recorder>, mqtt_connector::update_handler> make() {
    auto recorder = std::make_shared<update_recorder>();
    return {recorder, [recorder](mqtt_update update) {
              std::lock_guard<std::mutex> guard{recorder->mutex_};
              recorder->updates_.push_back(std::move(update));
              recorder->arrived_.notify_all();
            }};
  }

  /// Returns the next update, or nullopt when none came within `timeout`.
  std::optional<mqtt_update> next(std::chrono::milliseconds timeout = update_timeout) {
    std::unique_lock<std::mutex> lock{mutex_};
    if (!arrived_.wait_for(lock, timeout, [this] { return !updates_.empty(); }))
      return std::nullopt;
    auto update = std::move(updates_.front());
    updates_.pop_front();
    return update;
  }

  /// Returns the next update, which must be of kind `what`.
  mqtt_update expect(mqtt_update::kind what) {
    auto update = next();
    REQUIRE(update);
    INFO("failure: " << update->error);
    REQUIRE(update->what == what);
    return std::move(*update);
  }

  /// Returns whether no update is waiting now.
  bool idle() {
    std::lock_guard<std::mutex> guard{mutex_};
    return updates_.empty();
  }

private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::deque<mqtt_update> updates_;
};

/// A connection under test with its recorder.
struct recorded_connection {
  mqtt_connection_ptr connection;
  std::shared_ptr<update_recorder> updates;

  ~recorded_connection() {
    if (connection)
      connection->close();
  }

  /// Reads until `n` messages came, asking for more after each batch; returns them in order.
  std::vector<mqtt_message> read_messages(std::size_t n) {
    std::vector<mqtt_message> all;
    while (all.size() < n) {
      connection->read();
      auto batch = updates->expect(mqtt_update::kind::messages);
      REQUIRE_FALSE(batch.messages.empty());
      for (auto& message : batch.messages)
        all.push_back(std::move(message));
    }
    return all;
  }
};

/// An I/O runtime and a connector on it.
class mqtt_client_fixture {
public:
  explicit mqtt_client_fixture(mqtt_connector_options opts = {}) : connector(make_mqtt_connector(io, std::move(opts))) {
    // nop
  }

  /// Returns a request for client `client_id` at 127.0.0.1:`port`.
  static mqtt_connect_request request(std::uint16_t port, std::string client_id, bool clean_session = false) {
    mqtt_connect_request req;
    req.host = "127.0.0.1";
    req.port = port;
    req.client_id = std::move(client_id);
    req.clean_session = clean_session;
    return req;
  }

  /// Connects with `req` and returns the connection with its recorder; the first update is the test's to read.
  recorded_connection open(mqtt_connect_request req) {
    auto [recorder, handler] = update_recorder::make();
    auto connection = connector->connect(std::move(req), std::move(handler));
    return {std::move(connection), std::move(recorder)};
  }

  /// Connects, expects CONNACK accepting the connection, and subscribes to `filter` at `qos`.
  recorded_connection subscribed(mqtt_connect_request req, const std::string& filter, std::uint8_t qos) {
    auto conn = open(std::move(req));
    auto connack = conn.updates->expect(mqtt_update::kind::connected);
    REQUIRE(connack.return_code == 0);
    conn.connection->subscribe(filter, qos);
    auto suback = conn.updates->expect(mqtt_update::kind::subscribed);
    REQUIRE(suback.granted == std::vector<std::uint8_t>{qos});
    return conn;
  }

  io_runtime io{1};
  mqtt_connector_ptr connector;
};

} // namespace feedrouter::test

#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "net/mqtt_client.hpp"

namespace feedrouter::test {

/// An MQTT connection whose updates the test sends (deliver()) and whose calls it records.
class scripted_mqtt_connection : public mqtt_connection {
public:
  scripted_mqtt_connection(mqtt_connect_request req, mqtt_connector::update_handler handler)
    : request(std::move(req)), on_update_(std::move(handler)) {
    // nop
  }

  void subscribe(std::string filter, std::uint8_t qos) override {
    subscribes.emplace_back(std::move(filter), qos);
  }

  void unsubscribe(std::string filter) override {
    unsubscribes.push_back(std::move(filter));
  }

  void read() override {
    ++reads;
  }

  void ack(std::uint16_t packet_id) override {
    acks.push_back(packet_id);
  }

  void disconnect() override {
    disconnected = true;
  }

  void close() override {
    closed = true;
  }

  /// Hands `update` to the owner as the I/O thread would; the test runs the scheduler afterwards.
  void deliver(mqtt_update update) {
    on_update_(std::move(update));
  }

  mqtt_connect_request request;
  std::vector<std::pair<std::string, std::uint8_t>> subscribes;
  std::vector<std::string> unsubscribes;
  std::size_t reads = 0; ///< read() calls
  std::vector<std::uint16_t> acks;
  bool disconnected = false;
  bool closed = false;

private:
  mqtt_connector::update_handler on_update_;
};

/// Makes scripted connections and keeps them for the test.
class scripted_mqtt_connector : public mqtt_connector {
public:
  mqtt_connection_ptr connect(mqtt_connect_request req, update_handler on_update) override {
    connections.push_back(std::make_shared<scripted_mqtt_connection>(std::move(req), std::move(on_update)));
    return connections.back();
  }

  /// The scripted connector has no bound; a connection refused for want of room is scripted as a failed update.
  bool has_room() const override {
    return true;
  }

  /// Returns the newest connection; requires one.
  scripted_mqtt_connection& connection() const {
    if (connections.empty())
      throw std::logic_error("no MQTT connection was made");
    return *connections.back();
  }

  std::vector<std::shared_ptr<scripted_mqtt_connection>> connections;
};

} // namespace feedrouter::test

#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace feedrouter::test {

/// One control packet as a client sent it: the fixed header's type and flags, and the rest as raw bytes.
struct raw_mqtt_packet {
  int type = 0;
  int flags = 0;
  std::string body;
};

/// A scripted MQTT broker for client tests: it listens on 127.0.0.1 with an ephemeral port, takes one connection at a
/// time and does only what the test tells it, on the test's thread, so that it can misbehave on purpose. Every wait
/// is bounded by a timeout and woken by the socket, never by a timer.
class raw_mqtt_broker {
public:
  raw_mqtt_broker();
  ~raw_mqtt_broker();

  raw_mqtt_broker(const raw_mqtt_broker&) = delete;
  raw_mqtt_broker& operator=(const raw_mqtt_broker&) = delete;

  std::uint16_t port() const noexcept {
    return port_;
  }

  /// Waits for the next connection (closing the current one); returns whether one came within `timeout`.
  bool accept(std::chrono::milliseconds timeout);

  /// Returns the next packet the client sends, or nullopt when none came within `timeout` or the client closed.
  std::optional<raw_mqtt_packet> read_packet(std::chrono::milliseconds timeout);

  /// Sends `bytes`, blocking until they are in the socket.
  void write(const std::string& bytes);

  /// Sends `packet` again and again without blocking until the socket takes no more (the client does not read);
  /// returns how many packets went in, counting one that went in only in part: flush_tail() sends its rest. Gives up
  /// after `limit` packets.
  std::size_t write_until_full(const std::string& packet, std::size_t limit);

  /// Sends the rest of the packet write_until_full() left half written, blocking until the client took it.
  void flush_tail();

  /// Closes the connection, as a broker that goes away does.
  void close_connection();

  /// Returns whether the client closed the connection within `timeout` (what it sent before is dropped).
  bool wait_for_close(std::chrono::milliseconds timeout);

private:
  int listener_ = -1;
  int connection_ = -1;
  std::uint16_t port_ = 0;
  std::string received_; ///< bytes read and not yet cut into packets
  std::string tail_;     ///< what write_until_full() could not send of its last packet
};

} // namespace feedrouter::test

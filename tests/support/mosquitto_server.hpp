#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace feedrouter::test {

class child_process;

/// One message for mosquitto_server::publish.
struct mqtt_publication {
  std::string topic;
  std::string payload;
  int qos = 1; ///< 0 or 1
  bool retain = false;
};

/// A real MQTT broker for tests: mosquitto 2.0 (Debian's `mosquitto` package, /usr/sbin/mosquitto) with a config file
/// written by the test, listening on 127.0.0.1 and a free port, its persistence database, password file and log in a
/// temporary directory. Started as root it switches to the `mosquitto` user, so the directory then belongs to that
/// user. The data survives stop() and start() (and, with `save_every_change`, kill()), and later starts reuse the
/// port. The server is stopped and its directory removed by the destructor.
///
/// The helpers block and throw std::runtime_error on any failure; they set up and drive tests, they do not check
/// feedrouter.
class mosquitto_server {
public:
  // -- constants --------------------------------------------------------------

  static constexpr const char* binary = "/usr/sbin/mosquitto";

  /// How long start() waits for the port to accept connections.
  static constexpr std::chrono::seconds start_timeout{20};

  /// How long stop() waits after SIGTERM before it sends SIGKILL.
  static constexpr std::chrono::seconds stop_timeout{10};

  /// How long one publish() may take.
  static constexpr std::chrono::seconds publish_timeout{120};

  /// What the broker is set up with.
  struct options {
    /// Clients without credentials may connect (`allow_anonymous`).
    bool anonymous = true;
    /// Users of the password file (name, password); publish() logs in as the first when anonymous is off.
    std::vector<std::pair<std::string, std::string>> users{};
    /// Save the database after every change (`autosave_interval 1`, `autosave_on_changes true`), so that a kill -9
    /// of the broker loses nothing; otherwise it is saved when the broker stops (SIGTERM).
    bool save_every_change = false;
    /// `max_inflight_messages`: QoS 1 messages sent to one client and not acknowledged yet, at most (the broker's
    /// default is 20).
    std::size_t max_inflight = 20;
    /// PEM certificate and key files: the listener speaks TLS (mqtts) instead of plain MQTT.
    std::optional<std::pair<std::string, std::string>> tls{};
  };

  // -- constructors, destructors, and assignment operators --------------------

  /// Writes the configuration and starts the broker; throws std::runtime_error, with its log, when it cannot.
  explicit mosquitto_server(options opts);
  mosquitto_server();

  /// Stops the broker and removes its directory.
  ~mosquitto_server();

  mosquitto_server(const mosquitto_server&) = delete;
  mosquitto_server& operator=(const mosquitto_server&) = delete;

  // -- process ----------------------------------------------------------------

  /// Starts the broker (again) on the same port; returns once the port accepts connections.
  void start();

  /// Stops the broker with SIGTERM (it saves its database), then SIGKILL after stop_timeout; does nothing when it
  /// does not run.
  void stop();

  /// Kills the broker with SIGKILL: what it did not save is lost.
  void kill();

  /// Replaces the users of the password file (a changed password, say); the broker must be stopped, and takes them on
  /// its next start().
  void set_users(std::vector<std::pair<std::string, std::string>> users);

  /// Returns whether the broker runs.
  bool running() const;

  /// Returns the TCP port, the same for every start.
  std::uint16_t port() const noexcept {
    return port_;
  }

  /// Returns "mqtt://127.0.0.1:PORT" (mqtts with TLS).
  std::string url() const;

  /// Returns the temporary directory that holds the configuration, the data and the log.
  const std::string& directory() const noexcept {
    return dir_;
  }

  /// Returns the broker's log since the first start.
  std::string log_text() const;

  // -- clients ----------------------------------------------------------------

  /// Publishes `messages` in order over one plain connection of its own, and returns once the broker has taken them
  /// all (a PUBACK for each QoS 1 message, then a PINGRESP after the last). Not for a TLS listener.
  void publish(const std::vector<mqtt_publication>& messages);

  /// Publishes one message.
  void publish(std::string topic, std::string payload, int qos = 1, bool retain = false);

private:
  void write_config() const;
  void await_ready();

  options opts_;
  std::string dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<child_process> process_;
  int publishers_ = 0;
};

} // namespace feedrouter::test

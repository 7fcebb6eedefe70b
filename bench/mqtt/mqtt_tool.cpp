// The MQTT side of the mqtt scenario (bench/README.md): a publisher that stamps each message with its send time, and
// raw libmosquitto subscribers, the baseline feedrouter's mqtt feed is read against. The broker is a mosquitto the
// harness started; this tool only connects to it.
//
//   mqtt-tool --port PORT
//
// Prints {"ready": true} once the publisher is connected, then answers one JSON line per command line on stdin:
//
//   consume TOPIC CONSUMERS                    -> {"ready": true} once CONSUMERS subscribers (QoS 1, persistent
//                                                 sessions, as feedrouter's) are subscribed to TOPIC, each with a
//                                                 network thread of its own
//   produce TOPIC COUNT SIZE RATE              -> {"produced", "first_us", "last_us", "seconds"} once the broker
//                                                 acknowledged them all (PUBACK); message i is the QoS 1 payload
//                                                 {"n":i,"sentUs":<send time, µs since the epoch>,"pad":"..."} of SIZE
//                                                 bytes; RATE messages per second (0: as fast as the broker takes them)
//   wait COUNT TIMEOUT_S                       -> once every subscriber read COUNT messages (or the time is up):
//                                                 {"consumers", "received", "first_us", "last_us", "latency_us":
//                                                 {"p50", "p90", "p99", "max"}}; the subscribers disconnect
//   quit
//
// libmosquitto acknowledges a QoS 1 message (PUBACK) before its message callback runs: the raw subscriber is what the
// library can do at all, with nothing stored.

#include <mosquitto.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "raw_readers.hpp"

namespace {

const char* const broker_host = "127.0.0.1";

/// Seconds of silence after which the client pings the broker.
constexpr int keepalive_s = 60;

/// QoS 1 messages the publisher has sent and not had acknowledged, at most (libmosquitto's default is 20).
constexpr int publish_window = 1000;

/// How long a connection, a subscription or the acknowledgement of a burst may take.
constexpr auto connect_timeout = std::chrono::seconds(20);
constexpr auto publish_timeout = std::chrono::seconds(600);

void check(int rc, const std::string& what) {
  if (rc != MOSQ_ERR_SUCCESS)
    throw std::runtime_error(what + ": " + mosquitto_strerror(rc));
}

/// One libmosquitto client with its network thread; `on_...` run on that thread.
class client {
public:
  client(const std::string& id, bool clean_session, int port) {
    mosq_ = mosquitto_new(id.c_str(), clean_session, this);
    if (mosq_ == nullptr)
      throw std::runtime_error("mosquitto_new failed");
    mosquitto_connect_callback_set(mosq_, [](mosquitto*, void* self, int rc) {
      static_cast<client*>(self)->on_connect(rc);
    });
    mosquitto_subscribe_callback_set(mosq_, [](mosquitto*, void* self, int, int, const int*) {
      auto* me = static_cast<client*>(self);
      me->mark(me->subscribed_);
    });
    mosquitto_message_callback_set(mosq_, [](mosquitto*, void* self, const mosquitto_message* m) {
      static_cast<client*>(self)->on_message(m);
    });
    mosquitto_publish_callback_set(mosq_, [](mosquitto*, void* self, int) { ++static_cast<client*>(self)->acked_; });
    port_ = port;
  }

  virtual ~client() {
    stop();
    mosquitto_destroy(mosq_);
  }

  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Connects and starts the network thread; returns once the broker accepted the connection.
  void start() {
    check(mosquitto_connect(mosq_, broker_host, port_, keepalive_s), "connect");
    check(mosquitto_loop_start(mosq_), "loop_start");
    await(connected_, "the broker did not accept the connection");
  }

  /// Sends DISCONNECT; the network thread ends once it is out.
  void disconnect() {
    if (!disconnected_.exchange(true))
      mosquitto_disconnect(mosq_);
  }

  /// Disconnects and joins the network thread.
  void stop() {
    if (stopped_)
      return;
    stopped_ = true;
    disconnect();
    mosquitto_loop_stop(mosq_, false);
  }

protected:
  virtual void on_message(const mosquitto_message*) {
  }

  void mark(bool& flag) {
    std::lock_guard<std::mutex> lock{mutex_};
    flag = true;
    changed_.notify_all();
  }

  void await(bool& flag, const char* what) {
    std::unique_lock<std::mutex> lock{mutex_};
    if (!changed_.wait_for(lock, connect_timeout, [&] { return flag; }))
      throw std::runtime_error(what);
  }

  mosquitto* mosq_ = nullptr;
  std::atomic<long> acked_{0};
  bool subscribed_ = false;

private:
  void on_connect(int rc) {
    if (rc == 0)
      mark(connected_);
    else
      std::cerr << "mqtt-tool: connection refused: " << mosquitto_connack_string(rc) << std::endl;
  }

  int port_ = 0;
  bool stopped_ = false;
  std::atomic<bool> disconnected_{false};
  bool connected_ = false;
  std::mutex mutex_;
  std::condition_variable changed_;
};

/// A raw subscriber: QoS 1 on one topic, a persistent session, each message counted as it arrives.
class subscriber final : public client, public bench::raw_reader {
public:
  subscriber(const std::string& id, const std::string& topic, int port) : client(id, false, port) {
    start();
    check(mosquitto_subscribe(mosq_, nullptr, topic.c_str(), 1), "subscribe");
    await(subscribed_, "the broker did not answer the SUBSCRIBE");
  }

  /// Stops the network thread before this part of the object is gone: it calls on_message.
  ~subscriber() override {
    stop();
  }

  void stop_soon() override {
    disconnect();
  }

  void finish() override {
    stop();
  }

private:
  void on_message(const mosquitto_message* m) override {
    auto arrived = bench::now_us();
    std::string_view payload{static_cast<const char*>(m->payload), static_cast<std::size_t>(m->payloadlen)};
    seen_.add(arrived, bench::sent_us_of(payload));
  }
};

/// The publisher: QoS 1, up to publish_window messages in flight.
class publisher final : public client {
public:
  explicit publisher(int port) : client("bench-publisher", true, port) {
    check(mosquitto_int_option(mosq_, MOSQ_OPT_SEND_MAXIMUM, publish_window), "send maximum");
    start();
  }

  /// Publishes `count` stamped messages to `topic` at `rate` per second and waits for every PUBACK.
  std::string publish(const std::string& topic, long count, long size, double rate) {
    acked_ = 0;
    auto first = bench::now_us();
    auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < count; ++i) {
      bench::pace(start, i, rate);
      auto value = bench::stamped_value(i, size);
      check(mosquitto_publish(mosq_, nullptr, topic.c_str(), static_cast<int>(value.size()), value.data(), 1, false),
            "publish");
    }
    auto deadline = std::chrono::steady_clock::now() + publish_timeout;
    while (acked_ < count && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    if (acked_ < count)
      throw std::runtime_error("the broker acknowledged " + std::to_string(acked_.load()) + " of "
                               + std::to_string(count) + " messages");
    return bench::produced_json(count, first, bench::now_us());
  }
};

} // namespace

int main(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string{argv[i]} == "--port")
      port = std::atoi(argv[i + 1]);
  if (port <= 0) {
    std::cerr << "usage: mqtt-tool --port PORT" << std::endl;
    return 2;
  }
  mosquitto_lib_init();
  int code = 0;
  try {
    publisher pub{port};
    std::vector<std::unique_ptr<subscriber>> subscribers;
    int sessions = 0;
    std::cout << "{\"ready\": true}" << std::endl;
    std::string line;
    while (std::getline(std::cin, line)) {
      std::istringstream in{line};
      std::string command;
      in >> command;
      try {
        if (command == "consume") {
          std::string topic;
          int count = 1;
          in >> topic >> count;
          for (int i = 0; i < count; ++i)
            subscribers.push_back(
              std::make_unique<subscriber>("bench-raw-" + std::to_string(++sessions), topic, port));
          std::cout << "{\"ready\": true}" << std::endl;
        } else if (command == "produce") {
          std::string topic;
          long count = 0;
          long size = 0;
          double rate = 0;
          in >> topic >> count >> size >> rate;
          std::cout << pub.publish(topic, count, size, rate) << std::endl;
        } else if (command == "wait") {
          std::size_t count = 0;
          double timeout = 60;
          in >> count >> timeout;
          std::cout << bench::wait_and_sum_up(subscribers, count, timeout) << std::endl;
        } else if (command == "quit") {
          break;
        } else if (!command.empty()) {
          std::cout << bench::json_error("unknown command " + command) << std::endl;
        }
      } catch (const std::exception& e) {
        std::cout << bench::json_error(e.what()) << std::endl;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "mqtt-tool: " << e.what() << std::endl;
    code = 1;
  }
  mosquitto_lib_cleanup();
  return code;
}

// The Kafka side of scenario 6 (bench/README.md): librdkafka's mock cluster in this process, a producer that stamps
// each message with its send time, and raw librdkafka consumers, the baseline feedrouter's kafka feed is read against.
//
//   kafka-tool [--brokers N]
//
// Prints {"bootstrap": "127.0.0.1:P,..."} once the cluster listens, then answers one JSON line per command line on
// stdin:
//
//   topic NAME PARTITIONS                      -> {"ok": true}
//   consume NAME CONSUMERS                     -> {"ready": true} once CONSUMERS consumers read every partition of
//                                                 NAME from its current end, each on a thread of its own
//   produce NAME COUNT SIZE RATE               -> {"produced", "first_us", "last_us", "seconds"} once the cluster has
//                                                 them all; message i goes to partition i % PARTITIONS, its value is
//                                                 {"n":i,"sentUs":<send time, µs since the epoch>,"pad":"..."} of SIZE
//                                                 bytes; RATE messages per second (0: as fast as the cluster takes
//                                                 them)
//   wait COUNT TIMEOUT_S                       -> once every consumer read COUNT messages (or the time is up):
//                                                 {"consumers", "received", "first_us", "last_us", "latency_us":
//                                                 {"p50", "p90", "p99", "max"}}; the consumers stop
//   quit
//
// Everything listens on 127.0.0.1. Times are CLOCK_REALTIME in microseconds, comparable with the sink's receivedAt.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

std::int64_t now_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

void set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, name, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
    std::cerr << "kafka-tool: " << name << ": " << error << std::endl;
    std::exit(2);
  }
}

rd_kafka_t* make(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char error[512];
  set(conf, "log_level", "2");
  auto* rk = rd_kafka_new(type, conf, error, sizeof error);
  if (rk == nullptr) {
    std::cerr << "kafka-tool: " << error << std::endl;
    std::exit(2);
  }
  return rk;
}

/// Returns the send time stamped into a message value, or -1.
std::int64_t sent_us_of(const char* value, std::size_t size) {
  static const std::string marker = "\"sentUs\":";
  std::string_view text{value, size};
  auto at = text.find(marker);
  if (at == std::string_view::npos)
    return -1;
  return std::strtoll(std::string{text.substr(at + marker.size(), 20)}.c_str(), nullptr, 10);
}

/// One raw consumer: librdkafka's legacy consumer with its defaults, every partition from a given offset into one
/// queue, drained by a thread of its own.
class raw_consumer {
public:
  raw_consumer(const std::string& bootstrap, const std::string& topic, const std::vector<std::int64_t>& from)
    : topic_name_(topic) {
    auto* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "enable.partition.eof", "false");
    rk_ = make(RD_KAFKA_CONSUMER, conf);
    topic_ = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
    queue_ = rd_kafka_queue_new(rk_);
    for (std::size_t p = 0; p < from.size(); ++p)
      rd_kafka_consume_start_queue(topic_, static_cast<std::int32_t>(p), from[p], queue_);
    thread_ = std::thread([this] { run(); });
  }

  ~raw_consumer() {
    finish();
    rd_kafka_queue_destroy(queue_);
    rd_kafka_topic_destroy(topic_);
    rd_kafka_destroy(rk_);
  }

  std::size_t received() const {
    return received_.load();
  }

  /// Stops reading; the figures below are final once it returns.
  void finish() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }

  std::int64_t first_us = -1;
  std::int64_t last_us = -1;
  std::vector<std::int64_t> latencies;

private:
  void run() {
    std::vector<rd_kafka_message_t*> batch(1000);
    while (!stop_) {
      auto n = rd_kafka_consume_batch_queue(queue_, 100, batch.data(), batch.size());
      auto arrived = now_us();
      for (ssize_t i = 0; i < n; ++i) {
        auto* m = batch[i];
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          if (first_us < 0)
            first_us = arrived;
          last_us = arrived;
          auto sent = sent_us_of(static_cast<const char*>(m->payload), m->len);
          if (sent > 0)
            latencies.push_back(arrived - sent);
          ++received_;
        }
        rd_kafka_message_destroy(m);
      }
    }
  }

  std::string topic_name_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* topic_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;
  std::atomic<std::size_t> received_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::int64_t percentile(std::vector<std::int64_t>& sorted, double q) {
  if (sorted.empty())
    return -1;
  auto index = static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

} // namespace

int main(int argc, char** argv) {
  int brokers = 1;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string{argv[i]} == "--brokers")
      brokers = std::atoi(argv[i + 1]);
  auto* host = make(RD_KAFKA_PRODUCER, rd_kafka_conf_new());
  auto* cluster = rd_kafka_mock_cluster_new(host, brokers);
  const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
  auto* pconf = rd_kafka_conf_new();
  set(pconf, "bootstrap.servers", bootstrap);
  set(pconf, "linger.ms", "5");
  auto* producer = make(RD_KAFKA_PRODUCER, pconf);
  std::map<std::string, int> partitions;
  std::vector<std::unique_ptr<raw_consumer>> consumers;
  std::cout << "{\"bootstrap\": \"" << bootstrap << "\"}" << std::endl;

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in{line};
    std::string command;
    in >> command;
    if (command == "topic") {
      std::string name;
      int count = 1;
      in >> name >> count;
      rd_kafka_mock_topic_create(cluster, name.c_str(), count, 1);
      partitions[name] = count;
      std::cout << "{\"ok\": true}" << std::endl;
    } else if (command == "consume") {
      std::string name;
      int count = 1;
      in >> name >> count;
      std::vector<std::int64_t> from;
      for (int p = 0; p < partitions[name]; ++p) {
        std::int64_t low = 0;
        std::int64_t high = 0;
        rd_kafka_query_watermark_offsets(producer, name.c_str(), p, &low, &high, 10'000);
        from.push_back(high);
      }
      for (int i = 0; i < count; ++i)
        consumers.push_back(std::make_unique<raw_consumer>(bootstrap, name, from));
      std::cout << "{\"ready\": true}" << std::endl;
    } else if (command == "produce") {
      std::string name;
      long count = 0;
      long size = 0;
      double rate = 0;
      in >> name >> count >> size >> rate;
      auto parts = std::max(1, partitions[name]);
      auto first = now_us();
      auto start = std::chrono::steady_clock::now();
      for (long i = 0; i < count; ++i) {
        if (rate > 0) {
          auto due = start + std::chrono::microseconds(static_cast<std::int64_t>(1e6 * static_cast<double>(i) / rate));
          std::this_thread::sleep_until(due);
        }
        std::string value = "{\"n\":" + std::to_string(i) + ",\"sentUs\":" + std::to_string(now_us()) + ",\"pad\":\"";
        auto fill = std::max<long>(0, size - static_cast<long>(value.size()) - 2);
        value += std::string(static_cast<std::size_t>(fill), 'x') + "\"}";
        while (rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(name.c_str()),
                                 RD_KAFKA_V_PARTITION(static_cast<std::int32_t>(i % parts)),
                                 RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END)
               == RD_KAFKA_RESP_ERR__QUEUE_FULL)
          rd_kafka_poll(producer, 5);
        rd_kafka_poll(producer, 0);
      }
      rd_kafka_flush(producer, 120'000);
      auto last = now_us();
      std::cout << "{\"produced\": " << count << ", \"first_us\": " << first << ", \"last_us\": " << last
                << ", \"seconds\": " << static_cast<double>(last - first) / 1e6 << "}" << std::endl;
    } else if (command == "wait") {
      std::size_t count = 0;
      double timeout = 60;
      in >> count >> timeout;
      auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(timeout * 1000));
      auto done = [&] {
        return std::all_of(consumers.begin(), consumers.end(), [&](const auto& c) { return c->received() >= count; });
      };
      while (!done() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      std::size_t received = 0;
      std::int64_t first = -1;
      std::int64_t last = -1;
      std::vector<std::int64_t> latencies;
      for (auto& c : consumers) {
        c->finish();
        received += c->received();
        if (c->first_us >= 0 && (first < 0 || c->first_us < first))
          first = c->first_us;
        last = std::max(last, c->last_us);
        latencies.insert(latencies.end(), c->latencies.begin(), c->latencies.end());
      }
      auto count_consumers = consumers.size();
      consumers.clear();
      std::sort(latencies.begin(), latencies.end());
      std::cout << "{\"consumers\": " << count_consumers << ", \"received\": " << received
                << ", \"first_us\": " << first << ", \"last_us\": " << last << ", \"latency_us\": {\"p50\": "
                << percentile(latencies, 0.5) << ", \"p90\": " << percentile(latencies, 0.9)
                << ", \"p99\": " << percentile(latencies, 0.99) << ", \"max\": "
                << (latencies.empty() ? -1 : latencies.back()) << "}}" << std::endl;
    } else if (command == "quit") {
      break;
    } else if (!command.empty()) {
      std::cout << "{\"error\": \"unknown command " << command << "\"}" << std::endl;
    }
  }
  consumers.clear();
  rd_kafka_destroy(producer);
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(host);
  return 0;
}

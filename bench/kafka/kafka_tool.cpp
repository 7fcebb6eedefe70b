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

#include "raw_readers.hpp"

namespace {

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

/// One raw consumer: librdkafka's legacy consumer with its defaults, every partition from a given offset into one
/// queue, drained by a thread of its own.
class raw_consumer final : public bench::raw_reader {
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

  ~raw_consumer() override {
    finish();
    rd_kafka_queue_destroy(queue_);
    rd_kafka_topic_destroy(topic_);
    rd_kafka_destroy(rk_);
  }

  void stop_soon() override {
    stop_ = true;
  }

  void finish() override {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }

private:
  void run() {
    std::vector<rd_kafka_message_t*> batch(1000);
    while (!stop_) {
      auto n = rd_kafka_consume_batch_queue(queue_, 100, batch.data(), batch.size());
      auto arrived = bench::now_us();
      for (ssize_t i = 0; i < n; ++i) {
        auto* m = batch[i];
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
          seen_.add(arrived, bench::sent_us_of({static_cast<const char*>(m->payload), m->len}));
        rd_kafka_message_destroy(m);
      }
    }
  }

  std::string topic_name_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* topic_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

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
      auto first = bench::now_us();
      auto start = std::chrono::steady_clock::now();
      for (long i = 0; i < count; ++i) {
        bench::pace(start, i, rate);
        auto value = bench::stamped_value(i, size);
        while (rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(name.c_str()),
                                 RD_KAFKA_V_PARTITION(static_cast<std::int32_t>(i % parts)),
                                 RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END)
               == RD_KAFKA_RESP_ERR__QUEUE_FULL)
          rd_kafka_poll(producer, 5);
        rd_kafka_poll(producer, 0);
      }
      rd_kafka_flush(producer, 120'000);
      std::cout << bench::produced_json(count, first, bench::now_us()) << std::endl;
    } else if (command == "wait") {
      std::size_t count = 0;
      double timeout = 60;
      in >> count >> timeout;
      std::cout << bench::wait_and_sum_up(consumers, count, timeout) << std::endl;
    } else if (command == "quit") {
      break;
    } else if (!command.empty()) {
      std::cout << bench::json_error("unknown command " + command) << std::endl;
    }
  }
  consumers.clear();
  rd_kafka_destroy(producer);
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(host);
  return 0;
}

#include "tests/support/kafka_mock.hpp"

#include <stdexcept>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace feedrouter::test {

namespace {

constexpr int flush_timeout_ms = 60'000;
constexpr int query_timeout_ms = 10'000;

void set(rd_kafka_conf_t* conf, const char* name, const char* value) {
  char error[512];
  if (rd_kafka_conf_set(conf, name, value, error, sizeof error) != RD_KAFKA_CONF_OK)
    throw std::runtime_error{std::string{"kafka_mock: "} + name + ": " + error};
}

rd_kafka_t* make_producer(rd_kafka_conf_t* conf) {
  char error[512];
  set(conf, "log_level", "2");
  auto* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (rk == nullptr)
    throw std::runtime_error{std::string{"kafka_mock: "} + error};
  return rk;
}

void check(rd_kafka_resp_err_t err, const char* what) {
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error{std::string{"kafka_mock: "} + what + ": " + rd_kafka_err2str(err)};
}

/// Keeps the offset (or the error) of the one message produce() waits for.
void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  if (message->_private == nullptr)
    return;
  auto* result = static_cast<std::pair<rd_kafka_resp_err_t, std::int64_t>*>(message->_private);
  *result = {message->err, message->offset};
}

} // namespace

kafka_mock::kafka_mock(int brokers) : brokers_(brokers) {
  host_ = make_producer(rd_kafka_conf_new());
  cluster_ = rd_kafka_mock_cluster_new(host_, brokers);
  if (cluster_ == nullptr) {
    rd_kafka_destroy(host_);
    throw std::runtime_error{"kafka_mock: cannot start the mock cluster"};
  }
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_);
  auto* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap_.c_str());
  set(conf, "linger.ms", "5");
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  producer_ = make_producer(conf);
}

kafka_mock::~kafka_mock() {
  rd_kafka_destroy(producer_);
  rd_kafka_mock_cluster_destroy(cluster_);
  rd_kafka_destroy(host_);
}

std::string kafka_mock::bootstrap() const {
  return bootstrap_;
}

void kafka_mock::create_topic(const std::string& topic, int partitions) {
  check(rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1), "create topic");
}

std::int64_t kafka_mock::produce(const std::string& topic, std::int32_t partition, std::optional<std::string> key,
                                 std::optional<std::string> value) {
  std::pair<rd_kafka_resp_err_t, std::int64_t> result{RD_KAFKA_RESP_ERR__IN_PROGRESS, -1};
  // librdkafka's macros cast their arguments: each one is a plain expression.
  const void* key_data = key ? key->data() : nullptr;
  std::size_t key_size = key ? key->size() : 0;
  void* value_data = value ? value->data() : nullptr;
  std::size_t value_size = value ? value->size() : 0;
  check(rd_kafka_producev(producer_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                          RD_KAFKA_V_KEY(key_data, key_size), RD_KAFKA_V_VALUE(value_data, value_size),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&result), RD_KAFKA_V_END),
        "produce");
  check(rd_kafka_flush(producer_, flush_timeout_ms), "flush");
  check(result.first, "delivery");
  return result.second;
}

void kafka_mock::produce_many(const std::string& topic, int count, const std::function<std::int32_t(int)>& partition_of,
                              const std::function<std::string(int)>& value_of) {
  for (int i = 0; i < count; ++i) {
    auto key = "k" + std::to_string(i);
    auto value = value_of(i);
    for (;;) {
      auto err = rd_kafka_producev(producer_, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition_of(i)),
                                   RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(value.data(), value.size()),
                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        check(err, "produce");
        break;
      }
      rd_kafka_poll(producer_, 10);
    }
  }
  check(rd_kafka_flush(producer_, flush_timeout_ms), "flush");
}

std::pair<std::int64_t, std::int64_t> kafka_mock::watermarks(const std::string& topic, std::int32_t partition) {
  std::int64_t low = -1;
  std::int64_t high = -1;
  check(rd_kafka_query_watermark_offsets(producer_, topic.c_str(), partition, &low, &high, query_timeout_ms),
        "watermarks");
  return {low, high};
}

void kafka_mock::set_leader(const std::string& topic, std::int32_t partition, int broker) {
  check(rd_kafka_mock_partition_set_leader(cluster_, topic.c_str(), partition, broker), "set leader");
}

void kafka_mock::set_brokers_down() {
  for (int id = 1; id <= brokers_; ++id)
    check(rd_kafka_mock_broker_set_down(cluster_, id), "broker down");
}

void kafka_mock::set_brokers_up() {
  for (int id = 1; id <= brokers_; ++id)
    check(rd_kafka_mock_broker_set_up(cluster_, id), "broker up");
}

void kafka_mock::set_topic_error(const std::string& topic, int error) {
  rd_kafka_mock_topic_set_error(cluster_, topic.c_str(), static_cast<rd_kafka_resp_err_t>(error));
}

} // namespace feedrouter::test

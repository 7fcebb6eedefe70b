#include "scripted_redis.hpp"

#include <stdexcept>
#include <utility>

namespace feedrouter::test {

namespace {

/// A connection that records its exchanges in the connector's log.
class scripted_connection : public redis_connection {
public:
  explicit scripted_connection(std::shared_ptr<scripted_redis_log> log) : log_(std::move(log)) {
    // nop
  }

  void exchange(std::vector<std::vector<std::string>> commands, std::chrono::milliseconds timeout,
                std::function<void(redis_replies)> done) override {
    log_->sent.insert(log_->sent.end(), commands.begin(), commands.end());
    log_->exchanges.push_back({std::move(commands), timeout, std::move(done)});
  }

  void close() override {
    ++log_->closes;
  }

private:
  std::shared_ptr<scripted_redis_log> log_;
};

resp_value bulk(std::string text) {
  resp_value value;
  value.type = resp_value::kind::bulk;
  value.text = std::move(text);
  return value;
}

resp_value array(std::vector<resp_value> items) {
  resp_value value;
  value.type = resp_value::kind::array;
  value.items = std::move(items);
  return value;
}

template <class T>
T take_oldest(std::deque<T>& queue, const char* what) {
  if (queue.empty())
    throw std::logic_error(std::string{"no "} + what + " to answer");
  auto oldest = std::move(queue.front());
  queue.pop_front();
  return oldest;
}

} // namespace

scripted_redis_connector::scripted_redis_connector() : log(std::make_shared<scripted_redis_log>()) {
  // nop
}

void scripted_redis_connector::connect(const redis_server&, std::chrono::milliseconds,
                                       std::function<void(redis_connected)> done) {
  ++log->connects_asked;
  log->connects.push_back(std::move(done));
}

bool scripted_redis_connector::has_room() const {
  return log->room;
}

void scripted_redis_connector::accept() {
  take_oldest(log->connects, "connect")(redis_connected{std::make_shared<scripted_connection>(log), {}});
}

void scripted_redis_connector::refuse(redis_failure failure) {
  take_oldest(log->connects, "connect")(redis_connected{nullptr, std::move(failure)});
}

void scripted_redis_connector::reply(std::vector<resp_value> replies) {
  take_oldest(log->exchanges, "exchange").done(redis_replies{std::move(replies), {}});
}

void scripted_redis_connector::fail(redis_failure failure) {
  take_oldest(log->exchanges, "exchange").done(redis_replies{{}, std::move(failure)});
}

resp_value ok_reply() {
  resp_value value;
  value.type = resp_value::kind::simple;
  value.text = "OK";
  return value;
}

resp_value error_reply(std::string line) {
  resp_value value;
  value.type = resp_value::kind::error;
  value.text = std::move(line);
  return value;
}

resp_value null_reply() {
  return resp_value{};
}

resp_value entries_reply(const std::string& stream, const std::vector<std::string>& ids) {
  std::vector<resp_value> entries;
  for (const auto& id : ids)
    entries.push_back(array({bulk(id), array({bulk("n"), bulk(id)})}));
  return array({array({bulk(stream), array(std::move(entries))})});
}

resp_value last_entry_reply(const std::string& id) {
  if (id.empty())
    return array({});
  return array({array({bulk(id), array({bulk("n"), bulk(id)})})});
}

} // namespace feedrouter::test

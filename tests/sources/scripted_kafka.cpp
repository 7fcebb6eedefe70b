#include "scripted_kafka.hpp"

#include <stdexcept>

namespace feedrouter::test {

namespace {

class scripted_consumer final : public kafka_consumer {
public:
  explicit scripted_consumer(scripted_consumer_log_ptr log) : log_(std::move(log)) {
    // nop
  }

  ~scripted_consumer() override {
    log_->destroyed = true;
  }

  void read(std::int32_t partition, std::int64_t offset) override {
    log_->reads.emplace_back(partition, offset);
  }

  kafka_take take(std::size_t max) override {
    log_->takes.push_back(max);
    kafka_take out;
    out.faults = std::move(log_->faults);
    log_->faults.clear();
    while (out.records.size() < max && !log_->records.empty()) {
      out.records.push_back(std::move(log_->records.front()));
      log_->records.pop_front();
    }
    return out;
  }

  void pause() override {
    ++log_->pauses;
    log_->paused = true;
  }

  void resume() override {
    ++log_->resumes;
    log_->paused = false;
  }

  bool lagging() override {
    return log_->lagging;
  }

  void nudge() override {
    ++log_->nudges;
  }

  void restart_at_start(std::int32_t partition) override {
    log_->restarts.push_back(partition);
  }

  void describe(std::function<void(kafka_topic_state)> done) override {
    log_->describes.push_back(std::move(done));
  }

private:
  scripted_consumer_log_ptr log_;
};

} // namespace

kafka_opened scripted_kafka_connector::open(const kafka_spec&, std::function<void()> wake) {
  if (!refuse_open.empty())
    return {nullptr, refuse_open};
  auto log = std::make_shared<scripted_consumer_log>();
  log->wake = std::move(wake);
  consumers_.push_back(log);
  return {std::make_unique<scripted_consumer>(log), {}};
}

bool scripted_kafka_connector::has_room() const {
  return refuse_open.empty();
}

std::size_t scripted_kafka_connector::max_consumers() const {
  return 1;
}

void scripted_kafka_connector::probe(const kafka_spec&, std::chrono::milliseconds,
                                     std::function<void(kafka_topic_state)> done) {
  ++probes_asked_;
  probes_.push_back(std::move(done));
}

scripted_consumer_log& scripted_kafka_connector::consumer() const {
  if (consumers_.empty())
    throw std::logic_error("no consumer was opened");
  return *consumers_.back();
}

void scripted_kafka_connector::answer_probe(kafka_topic_state state) {
  if (probes_.empty())
    throw std::logic_error("no probe is waiting");
  auto done = std::move(probes_.front());
  probes_.pop_front();
  done(std::move(state));
}

void scripted_kafka_connector::answer_describe(kafka_topic_state state) {
  auto& log = consumer();
  if (log.describes.empty())
    throw std::logic_error("no describe is waiting");
  auto done = std::move(log.describes.front());
  log.describes.pop_front();
  done(std::move(state));
}

kafka_topic_state topic_with(int partitions, std::int64_t low, std::int64_t high) {
  kafka_topic_state state;
  for (int p = 0; p < partitions; ++p)
    state.partitions.push_back(kafka_partition{p, low, high});
  return state;
}

} // namespace feedrouter::test

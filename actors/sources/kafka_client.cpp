// The Kafka client on librdkafka (docs/kafka-feed.md, "Threads and memory").
//
// Each consumer is one librdkafka handle with the legacy simple consumer: every partition is started at an explicit
// offset (rd_kafka_consume_start_queue) into one queue of the handle, so there is no consumer group, no coordinator
// and no offset commit, and queued.max.messages.kbytes bounds that one queue. librdkafka's threads never touch an
// actor: when the queue (or the error queue) turns non-empty they call `wake`, which only sends a message, and the
// actor takes what waits without blocking. The calls that do block (metadata, watermarks, restarting a partition)
// run on a small pool of threads of this file, whose results go back through a callback as well.

#include "actors/sources/kafka_client.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <map>
#include <thread>
#include <utility>

#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/ip_address.hpp"
#include "core/log.hpp"

namespace feedrouter {

namespace {

using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

/// Threads that carry out the calls of all consumers that block (a request to the brokers, restarting a partition).
constexpr std::size_t request_threads = 8;
/// Threads that carry out the probes of CREATE and UPDATE, apart from the consumers' so that they never wait behind
/// them.
constexpr std::size_t probe_threads = 4;
/// Messages one take() copies out of librdkafka at most; the source takes again while it has credit.
constexpr std::size_t take_batch = 1000;
/// Errors one take() reads at most.
constexpr std::size_t take_errors = 100;

/// What a probe's short-lived client may buffer: it fetches only to learn where partitions end.
constexpr kafka_fetch_bounds probe_bounds{64, 16'384, 1'048'576, 1'049'088, 10};

// -- a pool of threads for blocking calls --------------------------------------------------------------------------

/// Runs jobs on up to `max_threads` threads, started when needed; the destructor waits for the jobs under way and
/// drops the queued ones. Its jobs must not own the pool.
class blocking_pool {
public:
  explicit blocking_pool(std::size_t max_threads) : max_threads_(max_threads) {
    // nop
  }

  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  ~blocking_pool() {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      stopping_ = true;
      jobs_.clear();
    }
    ready_.notify_all();
    for (auto& thread : threads_)
      thread.join();
  }

  void run(std::function<void()> job) {
    std::lock_guard<std::mutex> guard{mutex_};
    jobs_.push_back(std::move(job));
    if (idle_ == 0 && threads_.size() < max_threads_)
      threads_.emplace_back([this] { work(); });
    else
      ready_.notify_one();
  }

private:
  void work() {
    std::unique_lock<std::mutex> lock{mutex_};
    for (;;) {
      ++idle_;
      ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      --idle_;
      if (stopping_)
        return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  const std::size_t max_threads_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  bool stopping_ = false;
};

/// The instance's count of open consumers against its bound.
struct consumer_slots {
  explicit consumer_slots(std::size_t bound) : max(bound) {
    // nop
  }

  bool take() {
    auto now = open.load();
    while (now < max)
      if (open.compare_exchange_weak(now, now + 1))
        return true;
    return false;
  }

  void give_back() {
    --open;
  }

  const std::size_t max;
  std::atomic<std::size_t> open{0};
};

// -- one librdkafka handle ------------------------------------------------------------------------------------------

std::optional<ip_address> address_of(const sockaddr* addr, std::uint16_t& port) {
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    port = ntohs(in->sin_port);
    return ip_address::v4(ntohl(in->sin_addr.s_addr));
  }
  if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    port = ntohs(in6->sin6_port);
    std::array<std::uint8_t, ip_address::v6_size> bytes{};
    std::memcpy(bytes.data(), in6->sin6_addr.s6_addr, bytes.size());
    return ip_address::v6(bytes);
  }
  return std::nullopt;
}

/// One librdkafka handle with its topic and queues, and what its callbacks need: everything its threads may touch
/// lives here, at a fixed address, until the handle is gone.
struct client_handle {
  client_handle(kafka_spec spec_in, std::shared_ptr<const egress_policy> egress_in, std::function<void()> wake_in)
    : spec(std::move(spec_in)), egress(std::move(egress_in)), wake(std::move(wake_in)) {
    // nop
  }

  client_handle(const client_handle&) = delete;
  client_handle& operator=(const client_handle&) = delete;

  ~client_handle() {
    if (queue != nullptr)
      rd_kafka_queue_destroy(queue);
    if (errors != nullptr)
      rd_kafka_queue_destroy(errors);
    if (topic != nullptr)
      rd_kafka_topic_destroy(topic);
    if (rk != nullptr)
      // Nothing was committed, so there is nothing to close with the brokers.
      rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    if (slots)
      slots->give_back();
  }

  /// Returns the egress refusal its connect callback met since the last call, if any.
  std::optional<std::string> take_refusal() {
    std::lock_guard<std::mutex> guard{refusal_mutex};
    return std::exchange(refusal, std::nullopt);
  }

  /// Returns whether a connection was ever refused by the egress policy, keeping the refusal for take_refusal().
  std::optional<std::string> peek_refusal() {
    std::lock_guard<std::mutex> guard{refusal_mutex};
    return refusal;
  }

  const kafka_spec spec;
  const std::shared_ptr<const egress_policy> egress;
  const std::function<void()> wake; ///< empty for a probe's client
  rd_kafka_t* rk = nullptr;
  rd_kafka_topic_t* topic = nullptr;
  rd_kafka_queue_t* queue = nullptr;  ///< every started partition's messages and errors
  rd_kafka_queue_t* errors = nullptr; ///< the handle's own errors (brokers down, authentication)
  std::shared_ptr<consumer_slots> slots; ///< given back when the handle goes; null for a probe's client
  std::mutex refusal_mutex;
  std::optional<std::string> refusal;
};

using handle_ptr = std::shared_ptr<client_handle>;

/// librdkafka's connect callback: the egress policy judges the address actually connected to, the bootstrap brokers
/// and every broker they advertise alike.
int on_connect(int fd, const sockaddr* addr, int addrlen, const char* node_name, void* opaque) {
  auto& handle = *static_cast<client_handle*>(opaque);
  std::uint16_t port = 0;
  auto address = address_of(addr, port);
  auto host = kafka_broker_host(node_name != nullptr ? node_name : "");
  if (!address) {
    std::lock_guard<std::mutex> guard{handle.refusal_mutex};
    handle.refusal = std::string{egress_refusal_text} + ": " + host + " has no IP address";
    return EACCES;
  }
  auto verdict = handle.egress->check_connection(host, *address, port);
  if (!verdict.allowed) {
    std::lock_guard<std::mutex> guard{handle.refusal_mutex};
    handle.refusal = std::string{egress_refusal_text} + ": " + describe_refusal(verdict, host);
    return EACCES;
  }
  if (connect(fd, addr, static_cast<socklen_t>(addrlen)) == -1 && errno != EINPROGRESS)
    return errno;
  return 0;
}

/// librdkafka's log callback, on its threads: tenants' brokers are named in these lines, so they are debug only.
void on_log(const rd_kafka_t*, int level, const char* facility, const char* text) {
  log(log_level::debug, "kafka ", facility, " (", level, "): ", text);
}

/// Called on a librdkafka thread when one of the handle's queues turns non-empty.
void on_queue_event(rd_kafka_t*, void* opaque) {
  const auto& wake = static_cast<client_handle*>(opaque)->wake;
  if (wake)
    wake();
}

/// Returns a handle for `spec`, or the error that prevented it.
handle_ptr make_handle(const kafka_spec& spec, const kafka_connector_options& options, const kafka_fetch_bounds& bounds,
                       milliseconds socket_timeout, std::function<void()> wake, std::string& error) {
  auto handle = std::make_shared<client_handle>(spec, options.egress, std::move(wake));
  char errstr[512];
  auto* conf = rd_kafka_conf_new();
  auto props = kafka_client_properties(spec, options.tls, bounds);
  props.emplace_back("socket.timeout.ms", std::to_string(socket_timeout.count()));
  for (const auto& [name, value] : props) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      error = "cannot set " + name + ": " + errstr;
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  rd_kafka_conf_set(conf, "log_level", log_enabled(log_level::debug) ? "6" : "0", errstr, sizeof errstr);
  rd_kafka_conf_set_log_cb(conf, on_log);
  rd_kafka_conf_set_connect_cb(conf, on_connect);
  rd_kafka_conf_set_opaque(conf, handle.get());
  // Errors go to the handle's error queue, which the consumer reads on take(), instead of a callback.
  rd_kafka_conf_set_events(conf, RD_KAFKA_EVENT_ERROR);
  handle->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (handle->rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    error = errstr;
    return nullptr;
  }
  handle->topic = rd_kafka_topic_new(handle->rk, spec.topic.c_str(), nullptr);
  handle->queue = rd_kafka_queue_new(handle->rk);
  handle->errors = rd_kafka_queue_get_main(handle->rk);
  if (handle->topic == nullptr) {
    error = "cannot use topic " + spec.topic + ": " + rd_kafka_err2str(rd_kafka_last_error());
    return nullptr;
  }
  if (handle->wake) {
    rd_kafka_queue_cb_event_enable(handle->queue, on_queue_event, handle.get());
    rd_kafka_queue_cb_event_enable(handle->errors, on_queue_event, handle.get());
  }
  return handle;
}

int remaining_ms(steady::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - steady::now()).count();
  return static_cast<int>(std::max<long long>(left, 1));
}

bool is_authentication_error(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED
         || err == RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE || err == RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM;
}

constexpr std::string_view credentials_refused = "the brokers refused the SASL credentials (user, password)";
constexpr std::string_view topic_not_authorized = "these credentials may not read the topic";
constexpr std::string_view topic_missing = "the topic does not exist on these brokers";

/// Why a request to the brokers ended without an answer, as far as the client knows.
enum class request_end {
  timed_out,     ///< the time was up
  refused,       ///< the egress policy refused a broker
  authentication, ///< the brokers refused the credentials
  brokers_down,  ///< no broker could be reached at all
};

/// A request to the brokers in slices of time, so that it can end early: once the egress policy refused a broker, and
/// (where the handle's errors are the request's to read) once the credentials are refused or every broker is down.
class sliced_request {
public:
  sliced_request(client_handle& handle, bool read_errors, milliseconds timeout)
    : handle_(handle), read_errors_(read_errors), timeout_(timeout), deadline_(steady::now() + timeout) {
    // nop
  }

  /// Calls `call(slice_ms)` until it answers without an error or the request ends; returns its last error.
  template <class Call>
  rd_kafka_resp_err_t run(Call call) {
    for (;;) {
      auto slice = std::min(remaining_ms(deadline_), slice_ms);
      auto err = call(slice);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR || ended(err))
        return err;
    }
  }

  /// Returns what a failed request means for the registration.
  kafka_topic_state failure(rd_kafka_resp_err_t err) const {
    kafka_topic_state state;
    state.detail = rd_kafka_err2str(err);
    state.field = handle_.spec.brokers_field;
    switch (end_) {
      case request_end::refused:
        state.what = kafka_topic_state::kind::refused;
        state.error = handle_.peek_refusal().value_or(std::string{egress_refusal_text});
        return state;
      case request_end::authentication:
        state.what = kafka_topic_state::kind::refused;
        state.field = "user";
        state.error = std::string{credentials_refused};
        return state;
      case request_end::brokers_down:
        state.what = kafka_topic_state::kind::unreachable;
        state.error = "no broker could be reached (connection refused, closed or not resolved)";
        return state;
      case request_end::timed_out:
        break;
    }
    state.what = kafka_topic_state::kind::unreachable;
    state.error = "no broker answered within " + std::to_string(timeout_.count() / 1000) + " s";
    return state;
  }

private:
  /// A slice: short enough that a refusal ends the request soon, long enough for one round trip to the brokers.
  static constexpr int slice_ms = 250;

  bool ended(rd_kafka_resp_err_t err) {
    if (handle_.peek_refusal()) {
      end_ = request_end::refused;
      return true;
    }
    if (is_authentication_error(err)) {
      end_ = request_end::authentication;
      return true;
    }
    while (read_errors_) {
      auto* event = rd_kafka_queue_poll(handle_.errors, 0);
      if (event == nullptr)
        break;
      auto error = rd_kafka_event_error(event);
      rd_kafka_event_destroy(event);
      if (is_authentication_error(error)) {
        end_ = request_end::authentication;
        return true;
      }
      if (error == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        end_ = request_end::brokers_down;
        return true;
      }
    }
    if (steady::now() < deadline_)
      return false;
    end_ = request_end::timed_out;
    return true;
  }

  client_handle& handle_;
  bool read_errors_;
  milliseconds timeout_;
  steady::time_point deadline_;
  request_end end_ = request_end::timed_out;
};

kafka_topic_state refused_topic(std::string error) {
  kafka_topic_state state;
  state.what = kafka_topic_state::kind::refused;
  state.field = "topic";
  state.error = std::move(error);
  return state;
}

/// Asks the brokers for the topic's partitions: blocks up to `request`'s time.
kafka_topic_state describe_topic(client_handle& handle, sliced_request& request) {
  const rd_kafka_metadata_t* metadata = nullptr;
  auto err = request.run([&](int slice) { return rd_kafka_metadata(handle.rk, 0, handle.topic, &metadata, slice); });
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return request.failure(err);
  std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> guard{metadata,
                                                                                         rd_kafka_metadata_destroy};
  if (metadata->topic_cnt != 1)
    return request.failure(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC);
  const auto& topic = metadata->topics[0];
  switch (topic.err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      break;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      return refused_topic(std::string{topic_missing});
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
      return refused_topic(std::string{topic_not_authorized});
    default:
      return request.failure(topic.err);
  }
  if (topic.partition_cnt <= 0)
    return refused_topic("the topic has no partitions");
  if (static_cast<std::size_t>(topic.partition_cnt) > kafka_max_partitions)
    return refused_topic("the topic has " + std::to_string(topic.partition_cnt) + " partitions; a registration reads "
                         + std::to_string(kafka_max_partitions) + " at most");
  kafka_topic_state state;
  for (int i = 0; i < topic.partition_cnt; ++i)
    state.partitions.push_back(kafka_partition{topic.partitions[i].id, -1, -1});
  std::sort(state.partitions.begin(), state.partitions.end(),
            [](const kafka_partition& x, const kafka_partition& y) { return x.id < y.id; });
  return state;
}

/// Learns where each of `state`'s partitions ends (`since: now`) or starts (`since: earliest`) from the answers to
/// fetches: every partition is read from that end with a client of its own, and each fetch answer carries the offsets
/// its partition holds. (rd_kafka_query_watermark_offsets would wait for a broker it cannot reach without end.)
void learn_offsets(client_handle& handle, sliced_request& request, kafka_topic_state& state) {
  auto from_start = handle.spec.since == "earliest";
  for (const auto& partition : state.partitions)
    rd_kafka_consume_start_queue(handle.topic, partition.id,
                                 from_start ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END, handle.queue);
  auto known = [&](const kafka_partition& p) { return from_start ? p.low >= 0 : p.high >= 0; };
  auto err = request.run([&](int slice) {
    // Fetched messages are of no use here: only the offsets that came with them.
    rd_kafka_message_t* messages[take_batch];
    auto n = rd_kafka_consume_batch_queue(handle.queue, slice, messages, take_batch);
    for (ssize_t i = 0; i < n; ++i)
      rd_kafka_message_destroy(messages[i]);
    for (auto& partition : state.partitions)
      if (!known(partition))
        rd_kafka_get_watermark_offsets(handle.rk, handle.spec.topic.c_str(), partition.id, &partition.low,
                                       &partition.high);
    auto all = std::all_of(state.partitions.begin(), state.partitions.end(), known);
    return all ? RD_KAFKA_RESP_ERR_NO_ERROR : RD_KAFKA_RESP_ERR__TIMED_OUT;
  });
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    state = request.failure(err);
}

/// Returns what an error the client reports means for the source.
kafka_fault fault_of(rd_kafka_resp_err_t err, std::int32_t partition, std::int64_t offset) {
  kafka_fault fault;
  switch (err) {
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
      fault.what = kafka_fault::kind::offset_lost;
      fault.partition = partition;
      fault.offset = offset;
      fault.text = "partition " + std::to_string(partition) + " no longer holds offset " + std::to_string(offset);
      return fault;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      fault.what = kafka_fault::kind::refused;
      fault.text = std::string{topic_missing};
      return fault;
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      fault.what = kafka_fault::kind::refused;
      fault.text = "partition " + std::to_string(partition) + " does not exist (any more)";
      return fault;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
      fault.what = kafka_fault::kind::refused;
      fault.text = std::string{topic_not_authorized};
      return fault;
    default:
      break;
  }
  if (is_authentication_error(err)) {
    fault.what = kafka_fault::kind::refused;
    fault.text = std::string{credentials_refused};
    return fault;
  }
  fault.what = kafka_fault::kind::transient;
  switch (err) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
      fault.text = "cannot reach the brokers (refused, timed out, closed or not resolved)";
      break;
    case RD_KAFKA_RESP_ERR__SSL:
      fault.text = "the TLS handshake with the brokers failed";
      break;
    default:
      // librdkafka's names of its error codes are its own words, not a broker's.
      fault.text = std::string{"reading the topic failed: "} + rd_kafka_err2name(err);
      break;
  }
  if (partition >= 0)
    fault.text = "partition " + std::to_string(partition) + ": " + fault.text;
  return fault;
}

// -- the consumer ---------------------------------------------------------------------------------------------------

class rdkafka_consumer final : public kafka_consumer {
public:
  rdkafka_consumer(handle_ptr handle, std::shared_ptr<blocking_pool> pool, milliseconds request_timeout)
    : handle_(std::move(handle)), pool_(std::move(pool)), request_timeout_(request_timeout) {
    // nop
  }

  // -- kafka_consumer ----------------------------------------------------------

  void read(std::int32_t partition, std::int64_t offset) override {
    if (!next_.emplace(partition, offset).second)
      return;
    if (rd_kafka_consume_start_queue(handle_->topic, partition, offset, handle_->queue) == -1)
      log(log_level::warn, "kafka: cannot start partition ", partition, " of ", handle_->spec.topic, ": ",
          rd_kafka_err2str(rd_kafka_last_error()));
    if (paused_)
      pause_resume({partition}, true);
  }

  kafka_take take(std::size_t max) override {
    kafka_take out;
    if (auto refusal = handle_->take_refusal())
      out.faults.push_back({kafka_fault::kind::refused, -1, -1, std::move(*refusal)});
    for (std::size_t i = 0; i < take_errors; ++i) {
      auto* event = rd_kafka_queue_poll(handle_->errors, 0);
      if (event == nullptr)
        break;
      if (rd_kafka_event_type(event) == RD_KAFKA_EVENT_ERROR) {
        auto err = rd_kafka_event_error(event);
        log(log_level::debug, "kafka: ", handle_->spec.topic, ": ", rd_kafka_event_error_string(event));
        auto fault = fault_of(err, -1, -1);
        if (rd_kafka_event_error_is_fatal(event))
          fault.what = kafka_fault::kind::refused;
        out.faults.push_back(std::move(fault));
      }
      rd_kafka_event_destroy(event);
    }
    rd_kafka_message_t* messages[take_batch];
    while (max > 0) {
      auto n = rd_kafka_consume_batch_queue(handle_->queue, 0, messages, std::min(max, take_batch));
      if (n <= 0)
        break;
      for (ssize_t i = 0; i < n; ++i) {
        auto* message = messages[i];
        if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          log(log_level::debug, "kafka: ", handle_->spec.topic, " partition ", message->partition, ": ",
              rd_kafka_message_errstr(message));
          out.faults.push_back(fault_of(message->err, message->partition, message->offset));
        } else {
          next_[message->partition] = message->offset + 1;
          out.records.push_back(record_of(*message));
          --max;
        }
        rd_kafka_message_destroy(message);
      }
    }
    return out;
  }

  void pause() override {
    if (paused_)
      return;
    paused_ = true;
    pause_resume(partitions(), true);
  }

  void resume() override {
    if (!paused_)
      return;
    paused_ = false;
    pause_resume(partitions(), false);
    // librdkafka would fetch again only at its broker thread's next look, up to a second later; a seek to where it
    // resumes anyway wakes that thread.
    for (const auto& [partition, next] : next_)
      seek(partition, next);
  }

  bool lagging() override {
    if (paused_ || rd_kafka_queue_length(handle_->queue) > 0)
      return false;
    return std::any_of(next_.begin(), next_.end(), [this](const auto& entry) { return behind(entry); });
  }

  void nudge() override {
    for (const auto& entry : next_)
      if (behind(entry))
        seek(entry.first, entry.second);
  }

  void restart_at_start(std::int32_t partition) override {
    // Stopping a partition waits for librdkafka's own thread to answer: not on the actor's thread.
    next_[partition] = RD_KAFKA_OFFSET_BEGINNING;
    pool_->run([handle = handle_, partition, paused = paused_] {
      rd_kafka_consume_stop(handle->topic, partition);
      rd_kafka_consume_start_queue(handle->topic, partition, RD_KAFKA_OFFSET_BEGINNING, handle->queue);
      if (paused)
        log(log_level::debug, "kafka: partition ", partition, " restarted while the consumer is paused");
    });
  }

  void describe(std::function<void(kafka_topic_state)> done) override {
    pool_->run([handle = handle_, timeout = request_timeout_, done = std::move(done)] {
      // The error queue is the consumer's to read (take()).
      sliced_request request{*handle, false, timeout};
      done(describe_topic(*handle, request));
    });
  }

private:
  static kafka_record record_of(const rd_kafka_message_t& message) {
    kafka_record record;
    record.partition = message.partition;
    record.offset = message.offset;
    if (message.key != nullptr)
      record.key.emplace(static_cast<const char*>(message.key), message.key_len);
    if (message.payload != nullptr)
      record.value.emplace(static_cast<const char*>(message.payload), message.len);
    return record;
  }

  std::vector<std::int32_t> partitions() const {
    std::vector<std::int32_t> ids;
    for (const auto& entry : next_)
      ids.push_back(entry.first);
    return ids;
  }

  /// Returns whether the brokers' last answer for a partition said that it holds messages after the next one to take.
  bool behind(const std::pair<const std::int32_t, std::int64_t>& entry) const {
    if (entry.second < 0)
      return false;
    std::int64_t low = -1;
    std::int64_t high = -1;
    rd_kafka_get_watermark_offsets(handle_->rk, handle_->spec.topic.c_str(), entry.first, &low, &high);
    return high > entry.second;
  }

  void seek(std::int32_t partition, std::int64_t offset) {
    // Asynchronous (no time-out): the seek is carried out on librdkafka's own thread.
    rd_kafka_seek(handle_->topic, partition, offset, 0);
  }

  void pause_resume(const std::vector<std::int32_t>& partitions, bool pause) {
    if (partitions.empty())
      return;
    auto* list = rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
    for (auto partition : partitions)
      rd_kafka_topic_partition_list_add(list, handle_->spec.topic.c_str(), partition);
    if (pause)
      rd_kafka_pause_partitions(handle_->rk, list);
    else
      rd_kafka_resume_partitions(handle_->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
  }

  handle_ptr handle_;
  std::shared_ptr<blocking_pool> pool_;
  milliseconds request_timeout_;
  /// Every partition read, and the offset of the next message to take from it (a logical offset until one is taken).
  std::map<std::int32_t, std::int64_t> next_;
  bool paused_ = false;
};

// -- the connector --------------------------------------------------------------------------------------------------

class rdkafka_connector final : public kafka_connector {
public:
  explicit rdkafka_connector(kafka_connector_options options)
    : options_(std::move(options)),
      slots_(std::make_shared<consumer_slots>(options_.max_consumers)),
      requests_(std::make_shared<blocking_pool>(request_threads)),
      probes_(std::make_shared<blocking_pool>(probe_threads)) {
    // nop
  }

  kafka_opened open(const kafka_spec& spec, std::function<void()> wake) override {
    if (!slots_->take())
      return {nullptr, "this provider runs " + std::to_string(slots_->max)
                         + " kafka feeds at most (--max-kafka-feeds); waiting for one to end"};
    std::string error;
    auto handle = make_handle(spec, options_, kafka_fetch_bounds{}, options_.request_timeout, std::move(wake), error);
    if (!handle) {
      slots_->give_back();
      log(log_level::warn, "kafka: cannot make a client for ", spec.topic, ": ", error);
      return {nullptr, "cannot make a Kafka client: " + error};
    }
    handle->slots = slots_;
    return {std::make_unique<rdkafka_consumer>(std::move(handle), requests_, options_.request_timeout), {}};
  }

  bool has_room() const override {
    return slots_->open.load() < slots_->max;
  }

  std::size_t max_consumers() const override {
    return slots_->max;
  }

  void probe(const kafka_spec& spec, milliseconds timeout, std::function<void(kafka_topic_state)> done) override {
    probes_->run([spec, timeout, options = options_, done = std::move(done)] {
      std::string error;
      auto handle = make_handle(spec, options, probe_bounds, timeout, {}, error);
      if (!handle) {
        kafka_topic_state state;
        state.what = kafka_topic_state::kind::unreachable;
        state.field = spec.brokers_field;
        state.error = "cannot make a Kafka client";
        state.detail = error;
        done(std::move(state));
        return;
      }
      sliced_request request{*handle, true, timeout};
      auto state = describe_topic(*handle, request);
      if (state.ok())
        learn_offsets(*handle, request, state);
      done(std::move(state));
    });
  }

private:
  kafka_connector_options options_;
  std::shared_ptr<consumer_slots> slots_;
  std::shared_ptr<blocking_pool> requests_;
  std::shared_ptr<blocking_pool> probes_;
};

} // namespace

kafka_connector_ptr make_kafka_connector(kafka_connector_options options) {
  return std::make_shared<rdkafka_connector>(std::move(options));
}

} // namespace feedrouter

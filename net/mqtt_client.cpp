// The MQTT 3.1.1 client: plain Asio (no Beast) and OpenSSL, the packets from net/detail/mqtt_codec.

#include "net/mqtt_client.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include "net/detail/asio_context.hpp"
#include "net/detail/connection_slots.hpp"
#include "net/detail/egress_gate.hpp"
#include "net/detail/mqtt_codec.hpp"
#include "net/detail/tls_context.hpp"

namespace feedrouter {

namespace {

using client_detail::connection_slots;
using client_detail::connection_slots_ptr;
using client_detail::egress_gate;
using error_code = boost::system::error_code;
using steady_clock = std::chrono::steady_clock;
using tcp = asio::ip::tcp;

/// Bytes taken from the socket per read. Small, because every connection holds one such buffer: a provider with
/// thousands of mqtt registrations keeps thousands of connections open.
constexpr std::size_t read_chunk = 8 * 1024;

/// The packet id of the client's own SUBSCRIBE and UNSUBSCRIBE (one at a time, so one id serves). Packet ids of the
/// broker's PUBLISH packets are a separate space (MQTT 3.1.1 section 2.3.1).
constexpr std::uint16_t control_packet_id = 1;

/// The largest keepalive CONNECT can carry.
constexpr std::chrono::seconds max_keepalive{65'535};

/// How far a connection has come; it decides what a failure is called.
enum class phase {
  resolving,
  connecting,  ///< TCP, and the TLS handshake for mqtts
  handshaking, ///< CONNECT sent, CONNACK awaited
  connected,   ///< CONNACK accepted the connection
};

/// The control response a connection waits for, with the deadline running.
enum class awaited {
  nothing,
  connack,
  suback,
  unsuback,
};

std::string step_error(const char* step, const error_code& ec) {
  return std::string{step} + ": " + ec.message();
}

mqtt_message to_message(mqtt_packet& packet) {
  mqtt_message message;
  message.topic = std::move(packet.topic);
  message.payload = std::move(packet.payload);
  message.payload_size = packet.payload_size;
  message.packet_id = packet.packet_id;
  message.qos = packet.qos;
  message.retain = packet.retain;
  message.dup = packet.dup;
  message.oversized = packet.oversized;
  return message;
}

class connection;

/// Which sessions (broker and client id) have a connection that is closing, and the connections waiting for it.
///
/// A broker that sees a client id connect again takes the session over and drops what it had not read from the old
/// connection: PUBACKs sent just before a DISCONNECT would be lost, and the messages sent again. So a connection to a
/// session starts only once the session's closing connections are closed (the broker closed them after reading
/// their DISCONNECT, or the close timed out). A live connection does not hold a new one back: two owners of one
/// client id take the session from each other, as with any client.
class session_book {
public:
  /// Starts `conn` now, or once the closing connections of `session` are closed.
  void start(const std::string& session, const std::shared_ptr<connection>& conn);

  /// Counts a connection of `session` as closing; returns false when it already closed (nothing to wait for).
  bool closing(const std::string& session, bool& counted, const bool& finished);

  /// A connection of `session` closed: counts it out when it was counted as closing, and starts what waited for it.
  void closed(const std::string& session, const bool& counted, bool& finished);

private:
  struct entry {
    std::size_t closing = 0;
    std::vector<std::shared_ptr<connection>> waiting;
  };

  std::mutex mutex_;
  std::unordered_map<std::string, entry> sessions_;
};

using session_book_ptr = std::shared_ptr<session_book>;

/// One connection to a broker. Everything runs on the strand of its socket; the public methods post onto it.
///
/// Steps, in run order: run -> on_resolve -> connect -> on_connect -> on_handshake (mqtts) -> send_connect, then pump
/// -> read_some -> on_read -> take (CONNACK, SUBACK, UNSUBACK, PINGRESP, PUBLISH) for as long as bytes are wanted;
/// do_subscribe, do_unsubscribe, do_ack and on_keepalive queue packets through send -> write -> on_write. The egress
/// policy judges each address right before connect tries it; a reconnect is a new connection, judged again.
class connection final : public mqtt_connection, public std::enable_shared_from_this<connection> {
public:
  connection(asio::io_context& ioc, tls_context_ptr tls, std::shared_ptr<const egress_policy> egress,
             session_book_ptr book, connection_slots_ptr slots, mqtt_connect_request req,
             mqtt_connector::update_handler on_update)
    : book_(std::move(book)),
      slots_(std::move(slots)),
      session_(req.host + ':' + std::to_string(req.port) + '/' + req.client_id),
      strand_(asio::make_strand(ioc)),
      socket_(strand_),
      resolver_(strand_),
      gate_(std::move(egress), req.host),
      deadline_(strand_),
      keepalive_timer_(strand_),
      req_(std::move(req)),
      decoder_(req_.max_packet),
      on_update_(std::move(on_update)) {
    if (req_.tls)
      tls_.emplace(socket_, *tls);
  }

  ~connection() override {
    give_back_slot();
  }

  void start() {
    asio::post(strand_, [self = shared_from_this()] { self->run(); });
  }

  /// Fails the connection at once (on an I/O thread, as the interface promises) with `problem`.
  void refuse(std::string problem) {
    asio::post(strand_, [self = shared_from_this(), problem = std::move(problem)]() mutable {
      self->fail(mqtt_failure::no_connection, std::move(problem));
    });
  }

  // mqtt_connection

  void subscribe(std::string filter, std::uint8_t qos) override {
    asio::post(strand_, [self = shared_from_this(), filter = std::move(filter), qos] {
      self->await(awaited::suback, encode_mqtt_subscribe(control_packet_id, filter, qos), "SUBACK");
    });
  }

  void unsubscribe(std::string filter) override {
    asio::post(strand_, [self = shared_from_this(), filter = std::move(filter)] {
      self->await(awaited::unsuback, encode_mqtt_unsubscribe(control_packet_id, filter), "UNSUBACK");
    });
  }

  void read() override {
    asio::post(strand_, [self = shared_from_this()] { self->do_read(); });
  }

  void ack(std::uint16_t packet_id) override {
    asio::post(strand_, [self = shared_from_this(), packet_id] {
      if (!self->done_ && self->now_ == phase::connected)
        self->send(encode_mqtt_puback(packet_id));
    });
  }

  void disconnect() override {
    if (closed_.exchange(true) || !book_->closing(session_, counted_, finished_))
      return;
    asio::post(strand_, [self = shared_from_this()] { self->do_disconnect(); });
  }

  void close() override {
    if (closed_.exchange(true) || !book_->closing(session_, counted_, finished_))
      return;
    asio::post(strand_, [self = shared_from_this()] { self->shut(); });
  }

  /// Returns the session this connection belongs to: broker and client id.
  const std::string& session() const noexcept {
    return session_;
  }

private:
  // -- connecting ---------------------------------------------------------------------------------------------------

  void run() {
    // Closed by its owner while it waited for the session's closing connections.
    if (done_ || closed_)
      return shut();
    // Taken here rather than in connect(): a connection waiting for its session's closing one (a source after its
    // preparer, a reconnect) takes the place that one gives back.
    if (!slots_->try_take())
      return fail(mqtt_failure::no_room,
                  "this instance has " + std::to_string(slots_->max()) + " MQTT connections open (--max-mqtt-feeds)");
    holds_slot_ = true;
    arm_deadline("CONNACK");
    error_code ec;
    auto address = asio::ip::make_address(req_.host, ec);
    if (!ec) {
      // An address literal needs no resolver.
      std::array<tcp::endpoint, 1> endpoints{tcp::endpoint{address, req_.port}};
      return connect(endpoints);
    }
    resolver_.async_resolve(req_.host, std::to_string(req_.port),
                            [self = shared_from_this()](const error_code& error, tcp::resolver::results_type found) {
                              self->on_resolve(error, found);
                            });
  }

  void on_resolve(const error_code& ec, const tcp::resolver::results_type& found) {
    if (done_)
      return;
    if (ec)
      return fail(mqtt_failure::unresolved, step_error("resolve", ec));
    connect(found);
  }

  template <class Endpoints>
  void connect(const Endpoints& endpoints) {
    now_ = phase::connecting;
    gate_.reset();
    asio::async_connect(
      socket_, endpoints,
      [self = shared_from_this()](const error_code&, const tcp::endpoint& next) { return self->gate_.allows(next); },
      [self = shared_from_this()](const error_code& ec, const tcp::endpoint&) { self->on_connect(ec); });
  }

  void on_connect(const error_code& ec) {
    if (done_)
      return;
    if (ec && gate_.refused_all())
      return fail(mqtt_failure::not_allowed, std::string{egress_refusal_text});
    if (ec)
      return fail(mqtt_failure::no_connection, step_error("connect", ec));
    error_code ignored;
    // PUBACKs are small and the broker's window waits for them: latency matters more than packet count.
    socket_.set_option(tcp::no_delay(true), ignored);
    if (!tls_)
      return send_connect();
    if (auto problem = prepare_client_tls(tls_->native_handle(), req_.host))
      return fail(mqtt_failure::no_connection, step_error("tls handshake", problem));
    tls_->async_handshake(asio::ssl::stream_base::client,
                          [self = shared_from_this()](const error_code& error) { self->on_handshake(error); });
  }

  void on_handshake(const error_code& ec) {
    if (done_)
      return;
    if (ec) {
      auto error = step_error("tls handshake", ec);
      if (auto why = tls_verify_failure(tls_->native_handle()); !why.empty())
        error += " (" + why + ")";
      return fail(mqtt_failure::no_connection, std::move(error));
    }
    send_connect();
  }

  void send_connect() {
    now_ = phase::handshaking;
    mqtt_connect_fields fields;
    fields.client_id = req_.client_id;
    fields.username = req_.username;
    fields.password = req_.password;
    fields.clean_session = req_.clean_session;
    fields.keepalive_seconds = static_cast<std::uint16_t>(req_.keepalive.count());
    // Only what the tenant may see would go to a log: the CONNECT holds the password, so it is built here and sent.
    send(encode_mqtt_connect(fields));
    waiting_for_ = awaited::connack;
    mark_taking();
    pump();
  }

  // -- reading ------------------------------------------------------------------------------------------------------

  /// Returns whether bytes are to be taken from the socket: a control response is awaited, or messages were asked for.
  bool taking() const noexcept {
    return waiting_for_ != awaited::nothing || read_pending_;
  }

  /// Notes when the connection starts taking bytes again, from which a PINGRESP may be expected.
  void mark_taking() {
    if (!taking())
      taking_since_ = steady_clock::now();
  }

  void do_read() {
    if (done_ || read_pending_)
      return;
    mark_taking();
    read_pending_ = true;
    pump();
  }

  void await(awaited what, std::string packet, const char* answer) {
    if (done_ || now_ != phase::connected || waiting_for_ != awaited::nothing)
      return;
    mark_taking();
    waiting_for_ = what;
    arm_deadline(answer);
    send(std::move(packet));
    pump();
  }

  /// Takes the complete packets the decoder holds, hands messages over when they were asked for, and reads more
  /// bytes while they are wanted. Messages beyond what one read() hands over stay undecoded until the next read().
  void pump() {
    while (!done_) {
      if (waiting_for_ == awaited::nothing && ready_.size() >= req_.max_messages_per_read)
        break;
      auto next = decoder_.next();
      if (next.what == mqtt_decoded::kind::need_more)
        break;
      if (next.what == mqtt_decoded::kind::malformed)
        return fail(mqtt_failure::protocol, std::move(next.error));
      take(next.packet);
    }
    if (done_)
      return;
    if (read_pending_ && !ready_.empty()) {
      read_pending_ = false;
      mqtt_update update;
      update.what = mqtt_update::kind::messages;
      update.messages = std::move(ready_);
      ready_.clear();
      deliver(std::move(update));
    }
    if (!done_ && taking() && !reading_)
      read_some();
  }

  void take(mqtt_packet& packet) {
    auto name = std::string{mqtt_packet_name(packet.type)};
    if (waiting_for_ == awaited::connack && packet.type != mqtt_packet_type::connack)
      return fail(mqtt_failure::protocol, name + " before CONNACK");
    switch (packet.type) {
      case mqtt_packet_type::connack:
        return on_connack(packet);
      case mqtt_packet_type::suback:
      case mqtt_packet_type::unsuback:
        return on_control_answer(packet);
      case mqtt_packet_type::pingresp:
        ping_outstanding_ = false;
        return;
      case mqtt_packet_type::publish:
        return on_publish(packet);
      default:
        return fail(mqtt_failure::protocol, "a " + name + " for a message this client never sent");
    }
  }

  void on_connack(const mqtt_packet& packet) {
    if (waiting_for_ != awaited::connack)
      return fail(mqtt_failure::protocol, "a second CONNACK");
    waiting_for_ = awaited::nothing;
    disarm_deadline();
    mqtt_update update;
    update.what = mqtt_update::kind::connected;
    update.session_present = packet.session_present;
    update.return_code = packet.return_code;
    if (packet.return_code != 0) {
      deliver(std::move(update));
      return shut();
    }
    now_ = phase::connected;
    arm_keepalive();
    deliver(std::move(update));
  }

  void on_control_answer(mqtt_packet& packet) {
    auto wanted = packet.type == mqtt_packet_type::suback ? awaited::suback : awaited::unsuback;
    if (waiting_for_ != wanted || packet.packet_id != control_packet_id)
      return fail(mqtt_failure::protocol, "a " + std::string{mqtt_packet_name(packet.type)} + " nothing asked for");
    waiting_for_ = awaited::nothing;
    disarm_deadline();
    mqtt_update update;
    update.what = wanted == awaited::suback ? mqtt_update::kind::subscribed : mqtt_update::kind::unsubscribed;
    update.granted = std::move(packet.granted);
    deliver(std::move(update));
  }

  void on_publish(mqtt_packet& packet) {
    if (packet.qos > 1)
      return fail(mqtt_failure::protocol, "a PUBLISH of QoS 2, which this client never subscribes with");
    // While a SUBACK or UNSUBACK is awaited the messages before it are read too; they are bounded all the same.
    if (ready_.size() >= req_.max_messages_per_read)
      return fail(mqtt_failure::protocol, "more than " + std::to_string(req_.max_messages_per_read)
                                            + " messages before the answer to SUBSCRIBE or UNSUBSCRIBE");
    ready_.push_back(to_message(packet));
  }

  void read_some() {
    reading_ = true;
    auto done = [self = shared_from_this()](const error_code& ec, std::size_t n) { self->on_read(ec, n); };
    if (tls_)
      tls_->async_read_some(asio::buffer(chunk_), std::move(done));
    else
      socket_.async_read_some(asio::buffer(chunk_), std::move(done));
  }

  void on_read(const error_code& ec, std::size_t n) {
    reading_ = false;
    if (done_)
      return;
    // After DISCONNECT what the broker sends is dropped until it closes the connection.
    if (disconnecting_ && ec)
      return shut();
    if (disconnecting_)
      return read_some();
    if (ec)
      return fail(lost(), step_error("read", ec));
    decoder_.feed(std::string_view{chunk_.data(), n});
    pump();
  }

  // -- writing ------------------------------------------------------------------------------------------------------

  void send(std::string packet) {
    last_sent_ = steady_clock::now();
    outbox_ += packet;
    if (!writing_)
      write();
  }

  void write() {
    writing_ = true;
    sending_ = std::move(outbox_);
    outbox_.clear();
    auto done = [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_write(ec); };
    if (tls_)
      asio::async_write(*tls_, asio::buffer(sending_), std::move(done));
    else
      asio::async_write(socket_, asio::buffer(sending_), std::move(done));
  }

  void on_write(const error_code& ec) {
    writing_ = false;
    if (done_)
      return;
    if (ec)
      return fail(lost(), step_error("write", ec));
    sending_.clear();
    if (!outbox_.empty())
      return write();
    if (disconnecting_ && !reading_)
      read_some();
  }

  // -- keepalive and deadlines --------------------------------------------------------------------------------------

  void arm_keepalive() {
    if (req_.keepalive.count() == 0)
      return;
    auto next = last_sent_ + req_.keepalive;
    if (ping_outstanding_ && taking())
      next = std::min(next, std::max(ping_sent_, taking_since_) + req_.timeout);
    keepalive_timer_.expires_at(next);
    keepalive_timer_.async_wait([self = shared_from_this()](const error_code& ec) { self->on_keepalive(ec); });
  }

  void on_keepalive(const error_code& ec) {
    if (ec == asio::error::operation_aborted || done_ || disconnecting_)
      return;
    auto now = steady_clock::now();
    // A PINGRESP can only be seen while bytes are taken: the wait counts from when they were taken again.
    if (ping_outstanding_ && taking() && now >= std::max(ping_sent_, taking_since_) + req_.timeout)
      return fail(mqtt_failure::no_answer, "no PINGRESP within the timeout");
    // Pinged also while an answer is unread: the broker must hear from the client within 1.5 keepalives.
    if (now >= last_sent_ + req_.keepalive) {
      send(encode_mqtt_pingreq());
      if (!ping_outstanding_)
        ping_sent_ = now;
      ping_outstanding_ = true;
    }
    arm_keepalive();
  }

  /// Arms the deadline for `answer` (CONNACK, SUBACK, UNSUBACK, or the end of a DISCONNECT). A wait that already
  /// fired cannot be cancelled: the generation tells its handler that the deadline was moved or disarmed since.
  void arm_deadline(const char* answer) {
    deadline_.expires_after(req_.timeout);
    auto generation = ++deadline_generation_;
    deadline_.async_wait([self = shared_from_this(), answer, generation](const error_code& ec) {
      if (ec == asio::error::operation_aborted || generation != self->deadline_generation_ || self->done_)
        return;
      self->on_deadline(answer);
    });
  }

  void disarm_deadline() {
    ++deadline_generation_;
    deadline_.cancel();
  }

  void on_deadline(const char* answer) {
    if (disconnecting_)
      return shut();
    auto error = std::string{"timeout waiting for "} + answer;
    switch (now_) {
      case phase::resolving:
        return fail(mqtt_failure::unresolved, std::move(error));
      case phase::connecting:
      case phase::handshaking:
        return fail(mqtt_failure::no_connection, std::move(error));
      case phase::connected:
        return fail(mqtt_failure::no_answer, std::move(error));
    }
  }

  // -- endings ------------------------------------------------------------------------------------------------------

  /// Returns the failure of a connection that broke: lost once connected, else never made.
  mqtt_failure lost() const noexcept {
    return now_ == phase::connected ? mqtt_failure::connection_lost : mqtt_failure::no_connection;
  }

  void do_disconnect() {
    if (done_)
      return;
    if (now_ != phase::connected)
      return shut();
    read_pending_ = false;
    disconnecting_ = true;
    // The broker closes the connection once it has read DISCONNECT, so every packet before it (the last PUBACKs) has
    // been taken when it does; one that does not close it is not waited for longer than a CONNACK.
    arm_deadline("the broker to close the connection");
    send(encode_mqtt_disconnect());
  }

  void fail(mqtt_failure kind, std::string error) {
    if (done_)
      return;
    mqtt_update update;
    update.what = mqtt_update::kind::failed;
    update.failure = kind;
    update.error = std::move(error);
    deliver(std::move(update));
    shut();
  }

  void deliver(mqtt_update update) {
    if (closed_)
      return;
    on_update_(std::move(update));
  }

  void shut() {
    if (done_ && !socket_.is_open())
      return;
    done_ = true;
    closed_ = true;
    // Before the session's waiting connections start: one of them may need the place.
    give_back_slot();
    book_->closed(session_, counted_, finished_);
    disarm_deadline();
    keepalive_timer_.cancel();
    resolver_.cancel();
    error_code ignored;
    // No TLS close_notify: nothing is read after it, and the broker treats a closed connection the same either way.
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  void give_back_slot() noexcept {
    if (holds_slot_)
      slots_->give_back();
    holds_slot_ = false;
  }

  session_book_ptr book_;
  connection_slots_ptr slots_;
  bool holds_slot_ = false; ///< took a place in slots_ and has not given it back (on the strand only)
  const std::string session_; ///< "host:port/client id"
  bool counted_ = false;  ///< counted as closing in book_ (guarded by its mutex)
  bool finished_ = false; ///< shut and counted out of book_ (guarded by its mutex)
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::socket socket_;
  std::optional<asio::ssl::stream<tcp::socket&>> tls_; ///< declared after socket_, which it refers to
  tcp::resolver resolver_;
  egress_gate gate_;
  asio::steady_timer deadline_;
  asio::steady_timer keepalive_timer_;
  mqtt_connect_request req_;
  mqtt_decoder decoder_;
  std::array<char, read_chunk> chunk_{}; // (Must persist between reads)
  std::vector<mqtt_message> ready_;      ///< decoded, not yet handed over
  std::string outbox_;                   ///< packets queued behind the write under way
  std::string sending_;                  // (Must persist until async_write completes)
  phase now_ = phase::resolving;
  awaited waiting_for_ = awaited::nothing;
  std::uint64_t deadline_generation_ = 0;
  steady_clock::time_point last_sent_ = steady_clock::now();
  steady_clock::time_point ping_sent_;
  steady_clock::time_point taking_since_;
  bool ping_outstanding_ = false;
  bool read_pending_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool disconnecting_ = false;
  bool done_ = false;               ///< failed, refused or shut: nothing more happens (on the strand only)
  std::atomic<bool> closed_{false}; ///< the owner closed it, or it ended: no further update
  mqtt_connector::update_handler on_update_;
};

class connector_impl final : public mqtt_connector {
public:
  connector_impl(asio::io_context& ioc, tls_context_ptr tls, std::shared_ptr<const egress_policy> egress,
                 std::size_t max_connections)
    : ioc_(ioc),
      tls_(std::move(tls)),
      egress_(std::move(egress)),
      book_(std::make_shared<session_book>()),
      slots_(std::make_shared<connection_slots>(max_connections)) {
    // nop
  }

  // mqtt_connector

  mqtt_connection_ptr connect(mqtt_connect_request req, update_handler on_update) override {
    auto problem = request_problem(req);
    auto egress = req.owner == destination_owner::tenant ? egress_ : nullptr;
    auto conn = std::make_shared<connection>(ioc_, tls_, std::move(egress), book_, slots_, std::move(req),
                                             std::move(on_update));
    if (problem.empty())
      book_->start(conn->session(), conn);
    else
      conn->refuse(std::move(problem));
    return conn;
  }

  bool has_room() const override {
    return slots_->has_room();
  }

private:
  static std::string request_problem(const mqtt_connect_request& req) {
    if (req.host.empty())
      return "no broker host";
    if (req.keepalive < std::chrono::seconds{0} || req.keepalive > max_keepalive)
      return "keepalive outside 0 to 65535 s";
    mqtt_connect_fields fields;
    fields.client_id = req.client_id;
    fields.username = req.username;
    fields.password = req.password;
    return mqtt_connect_problem(fields);
  }

  asio::io_context& ioc_;
  const tls_context_ptr tls_;
  const std::shared_ptr<const egress_policy> egress_;
  const session_book_ptr book_;
  const connection_slots_ptr slots_;
};

// -- session_book (definitions) -----------------------------------------------------------------------------------

void session_book::start(const std::string& session, const std::shared_ptr<connection>& conn) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    auto found = sessions_.find(session);
    if (found != sessions_.end() && found->second.closing > 0) {
      found->second.waiting.push_back(conn);
      return;
    }
  }
  conn->start();
}

bool session_book::closing(const std::string& session, bool& counted, const bool& finished) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (finished)
    return false;
  counted = true;
  ++sessions_[session].closing;
  return true;
}

void session_book::closed(const std::string& session, const bool& counted, bool& finished) {
  std::vector<std::shared_ptr<connection>> ready;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (finished)
      return;
    finished = true;
    if (!counted)
      return;
    auto found = sessions_.find(session);
    if (found == sessions_.end() || --found->second.closing > 0)
      return;
    ready = std::move(found->second.waiting);
    sessions_.erase(found);
  }
  for (const auto& conn : ready)
    conn->start();
}

} // namespace

std::string_view mqtt_failure_text(mqtt_failure failure) noexcept {
  switch (failure) {
    case mqtt_failure::not_allowed:
      return egress_refusal_text;
    case mqtt_failure::unresolved:
      return "cannot resolve the host name";
    case mqtt_failure::none:
    case mqtt_failure::no_connection:
      return "no MQTT connection (cannot connect, timed out, TLS failed or not an MQTT broker)";
    case mqtt_failure::protocol:
      return "the broker broke the MQTT protocol";
    case mqtt_failure::connection_lost:
      return "the connection was lost";
    case mqtt_failure::no_answer:
      return "the broker did not answer in time";
    case mqtt_failure::no_room:
      return "this provider runs as many mqtt feeds as it may at once; try again later";
  }
  return "no MQTT connection";
}

std::string_view mqtt_refusal_text(int return_code) noexcept {
  switch (return_code) {
    case 1:
      return "unacceptable protocol version (the broker does not speak MQTT 3.1.1)";
    case 2:
      return "identifier rejected";
    case 3:
      return "server unavailable";
    case 4:
      return "bad user name or password";
    case 5:
      return "not authorized";
    default:
      return "refused";
  }
}

mqtt_connector_ptr make_mqtt_connector(io_runtime& io, mqtt_connector_options opts) {
  // Made up front even if no mqtts broker ever comes, so that a bad CA file is a start-up error.
  auto tls = make_client_tls_context(opts.ca_file, opts.insecure_skip_verify);
  return std::make_shared<connector_impl>(io_context_of(io), std::move(tls), std::move(opts.egress),
                                          opts.max_connections);
}

} // namespace feedrouter

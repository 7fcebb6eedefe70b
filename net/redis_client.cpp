// The Redis client: RESP2 over TCP (or TLS) on the process's io_context, in plain Asio (no Beast: RESP needs no HTTP
// machinery, and this translation unit stays quick to compile).

#include "net/redis_client.hpp"

#include <array>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>

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
#include "net/detail/resp_codec.hpp"
#include "net/detail/tls_context.hpp"
#include "net/io_runtime.hpp"

namespace feedrouter {

namespace {

using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using client_detail::connection_slots;
using client_detail::connection_slots_ptr;
using client_detail::egress_gate;

/// Bytes taken from the socket per read: every open connection holds one such buffer.
constexpr std::size_t read_chunk = 16 * 1024;

/// What one reply may take (net/detail/resp_codec.hpp).
resp_limits reply_limits() {
  resp_limits limits;
  limits.max_bulk = redis_max_field_bytes;
  limits.max_reply_bytes = redis_max_reply_bytes;
  return limits;
}

std::string step_error(const char* step, const error_code& ec) {
  return std::string{step} + ": " + ec.message();
}

/// One connection. Everything runs on its strand; exchange() and close() post onto it.
///
/// Steps: resolve -> connect (each address judged by the egress gate) -> TLS handshake (rediss only) -> connected.
/// Then per exchange: write the pipelined commands -> read until as many replies as commands. One timer bounds the
/// connect and each exchange: when it fires the socket closes, which fails whatever is under way.
class connection_impl : public redis_connection, public std::enable_shared_from_this<connection_impl> {
public:
  /// Holds the place in `slots` that the connector took for it, and gives it back when it is destroyed.
  connection_impl(asio::io_context& ioc, connection_slots_ptr slots, tls_context_ptr tls,
                  std::shared_ptr<const egress_policy> egress, redis_server server)
    : strand_(asio::make_strand(ioc)),
      socket_(strand_),
      resolver_(strand_),
      timer_(strand_),
      gate_(std::move(egress), server.host),
      slots_(std::move(slots)),
      tls_context_(std::move(tls)),
      server_(std::move(server)),
      reader_(reply_limits()) {
    if (server_.tls)
      tls_.emplace(socket_, *tls_context_);
  }

  ~connection_impl() override {
    slots_->give_back();
  }

  void start(std::chrono::milliseconds timeout, std::function<void(redis_connected)> done) {
    asio::post(strand_, [self = shared_from_this(), timeout, done = std::move(done)]() mutable {
      self->connected_ = std::move(done);
      self->arm(timeout);
      self->resolve();
    });
  }

  // redis_connection

  void exchange(std::vector<std::vector<std::string>> commands, std::chrono::milliseconds timeout,
                std::function<void(redis_replies)> done) override {
    asio::post(strand_,
               [self = shared_from_this(), commands = std::move(commands), timeout, done = std::move(done)]() mutable {
                 self->begin_exchange(commands, timeout, std::move(done));
               });
  }

  void close() override {
    asio::post(strand_, [self = shared_from_this()] { self->shut(); });
  }

private:
  // -- deadline ---------------------------------------------------------------

  void arm(std::chrono::milliseconds limit) {
    expired_ = false;
    timer_.expires_after(limit);
    // A wait that already fired cannot be cancelled: the generation tells its handler that the timer was re-armed.
    timer_.async_wait([self = shared_from_this(), generation = ++timer_generation_](const error_code& ec) {
      if (ec == asio::error::operation_aborted || generation != self->timer_generation_)
        return;
      self->expired_ = true;
      self->resolver_.cancel();
      error_code ignored;
      self->socket_.close(ignored);
    });
  }

  void disarm() {
    ++timer_generation_;
    timer_.cancel();
  }

  // -- connecting -------------------------------------------------------------

  void resolve() {
    error_code ec;
    auto address = asio::ip::make_address(server_.host, ec);
    if (!ec) {
      // An address literal needs no resolver.
      std::array<tcp::endpoint, 1> endpoints{tcp::endpoint{address, server_.port}};
      return connect(endpoints);
    }
    resolver_.async_resolve(server_.host, std::to_string(server_.port),
                            [self = shared_from_this()](const error_code& ec, tcp::resolver::results_type results) {
                              if (ec)
                                return self->fail_connect(redis_failure::kind::unreachable, self->why("resolve", ec));
                              self->connect(results);
                            });
  }

  template <class Endpoints>
  void connect(const Endpoints& endpoints) {
    gate_.reset();
    asio::async_connect(
      socket_, endpoints,
      [self = shared_from_this()](const error_code&, const tcp::endpoint& next) { return self->gate_.allows(next); },
      [self = shared_from_this()](const error_code& ec, const tcp::endpoint&) { self->on_connect(ec); });
  }

  void on_connect(const error_code& ec) {
    if (ec && gate_.refused_all() && !expired_)
      return fail_connect(redis_failure::kind::not_allowed, std::string{egress_refusal_text});
    if (ec)
      return fail_connect(redis_failure::kind::unreachable, why("connect", ec));
    error_code ignored;
    socket_.set_option(tcp::no_delay{true}, ignored);
    if (!tls_)
      return finish_connect();
    if (auto problem = prepare_client_tls(tls_->native_handle(), server_.host))
      return fail_connect(redis_failure::kind::unreachable, why("tls handshake", problem));
    tls_->async_handshake(asio::ssl::stream_base::client, [self = shared_from_this()](const error_code& ec) {
      if (!ec)
        return self->finish_connect();
      auto detail = self->why("tls handshake", ec);
      auto verify = tls_verify_failure(self->tls_->native_handle());
      if (!verify.empty())
        detail += " (" + verify + ")";
      self->fail_connect(redis_failure::kind::unreachable, std::move(detail));
    });
  }

  void finish_connect() {
    disarm();
    auto done = std::exchange(connected_, nullptr);
    done(redis_connected{shared_from_this(), {}});
  }

  void fail_connect(redis_failure::kind what, std::string detail) {
    disarm();
    shut();
    auto done = std::exchange(connected_, nullptr);
    done(redis_connected{nullptr, redis_failure{what, std::move(detail)}});
  }

  // -- exchanges --------------------------------------------------------------

  void begin_exchange(const std::vector<std::vector<std::string>>& commands, std::chrono::milliseconds timeout,
                      std::function<void(redis_replies)> done) {
    exchanged_ = std::move(done);
    replies_.clear();
    expected_ = commands.size();
    if (closed_)
      return fail_exchange(redis_failure::kind::unreachable, "the connection is closed");
    out_.clear();
    for (const auto& command : commands)
      append_command(out_, command);
    arm(timeout);
    auto on_written = [self = shared_from_this()](const error_code& ec, std::size_t) {
      if (ec)
        return self->fail_exchange(redis_failure::kind::unreachable, self->why("write", ec));
      self->out_.clear();
      self->take_replies();
    };
    if (tls_)
      asio::async_write(*tls_, asio::buffer(out_), std::move(on_written));
    else
      asio::async_write(socket_, asio::buffer(out_), std::move(on_written));
  }

  /// Takes replies from the bytes read but not yet taken, and reads more until the exchange has all of them.
  void take_replies() {
    while (replies_.size() < expected_) {
      auto taken = reader_.feed(std::string_view{buffer_.data() + begin_, end_ - begin_});
      begin_ += taken;
      if (reader_.error() != resp_read_error::none)
        return fail_exchange(redis_failure::kind::protocol, reader_.error_text());
      if (!reader_.has_reply())
        return read_more();
      replies_.push_back(reader_.take_reply());
    }
    disarm();
    auto done = std::exchange(exchanged_, nullptr);
    done(redis_replies{std::move(replies_), {}});
  }

  void read_more() {
    begin_ = 0;
    end_ = 0;
    auto on_read = [self = shared_from_this()](const error_code& ec, std::size_t n) {
      if (ec)
        return self->fail_exchange(redis_failure::kind::unreachable, self->why("read", ec));
      self->end_ = n;
      self->take_replies();
    };
    if (tls_)
      tls_->async_read_some(asio::buffer(buffer_), std::move(on_read));
    else
      socket_.async_read_some(asio::buffer(buffer_), std::move(on_read));
  }

  void fail_exchange(redis_failure::kind what, std::string detail) {
    disarm();
    shut();
    if (auto done = std::exchange(exchanged_, nullptr))
      done(redis_replies{{}, redis_failure{what, std::move(detail)}});
  }

  // -- closing ----------------------------------------------------------------

  void shut() {
    closed_ = true;
    resolver_.cancel();
    error_code ignored;
    // No TLS close_notify: the server keeps nothing for a client that leaves, and waiting for its answer could hang.
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  /// Returns "step: reason", or "timeout" when the deadline closed the socket.
  std::string why(const char* step, const error_code& ec) const {
    return expired_ ? std::string{"timeout"} : step_error(step, ec);
  }

  asio::strand<asio::io_context::executor_type> strand_;
  tcp::socket socket_;
  std::optional<asio::ssl::stream<tcp::socket&>> tls_; ///< declared after socket_, which it refers to
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  egress_gate gate_;
  connection_slots_ptr slots_;
  tls_context_ptr tls_context_;
  redis_server server_;
  resp_reader reader_;
  std::array<char, read_chunk> buffer_{};
  std::size_t begin_ = 0; ///< the bytes of buffer_ read but not taken are [begin_, end_)
  std::size_t end_ = 0;
  std::string out_;
  std::vector<resp_value> replies_;
  std::size_t expected_ = 0;
  std::function<void(redis_connected)> connected_;
  std::function<void(redis_replies)> exchanged_;
  std::uint64_t timer_generation_ = 0;
  bool expired_ = false;
  bool closed_ = false;
};

class asio_redis_connector : public redis_connector {
public:
  asio_redis_connector(io_runtime& io, redis_connector_options options)
    : ioc_(io_context_of(io)),
      options_(std::move(options)),
      slots_(std::make_shared<connection_slots>(options_.max_connections)) {
    // nop
  }

  void connect(const redis_server& server, std::chrono::milliseconds timeout,
               std::function<void(redis_connected)> done) override {
    if (!slots_->try_take()) {
      asio::post(ioc_, [done = std::move(done), max = slots_->max()] {
        done(redis_connected{nullptr, redis_failure{redis_failure::kind::no_room,
                                                    "this instance has " + std::to_string(max)
                                                      + " Redis connections open (--max-redis-feeds)"}});
      });
      return;
    }
    tls_context_ptr tls;
    if (server.tls)
      tls = tls_context();
    auto connection = std::make_shared<connection_impl>(ioc_, slots_, std::move(tls), options_.egress, server);
    connection->start(timeout, std::move(done));
  }

  bool has_room() const override {
    return slots_->has_room();
  }

private:
  /// Returns the TLS context, made on first use: most instances never connect to a `rediss://` server.
  tls_context_ptr tls_context() {
    std::lock_guard<std::mutex> lock{tls_mutex_};
    if (!tls_)
      tls_ = make_client_tls_context({}, false);
    return tls_;
  }

  asio::io_context& ioc_;
  redis_connector_options options_;
  connection_slots_ptr slots_;
  std::mutex tls_mutex_;
  tls_context_ptr tls_;
};

} // namespace

std::string failure_text(const redis_failure& failure) {
  switch (failure.what) {
    case redis_failure::kind::none:
      break;
    case redis_failure::kind::not_allowed:
      return std::string{egress_refusal_text};
    case redis_failure::kind::unreachable:
      return "cannot reach the Redis server (cannot resolve or connect, TLS failed, timed out or the connection broke)";
    case redis_failure::kind::protocol:
      return "the server does not answer as Redis does, or sent a reply larger than this provider accepts";
    case redis_failure::kind::no_room:
      return "this provider reads as many Redis streams as it may at once; try again later";
  }
  return "the Redis server failed";
}

redis_connector_ptr make_redis_connector(io_runtime& io, redis_connector_options options) {
  return std::make_shared<asio_redis_connector>(io, std::move(options));
}

} // namespace feedrouter

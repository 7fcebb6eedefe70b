// The streaming half of the HTTP client: one connection per stream, its response body cut into lines as the reader
// asks for them. Kept out of http_client.cpp so the two Beast translation units compile in parallel.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/line_splitter.hpp"
#include "net/detail/client_common.hpp"
#include "net/detail/maybe_tls_stream.hpp"
#include "net/detail/stream_client.hpp"

namespace feedrouter {

namespace {

using namespace client_detail;
using tcp = asio::ip::tcp;

/// Bytes taken from the body per socket read. Small, because every open stream holds one such buffer: a provider
/// with thousands of changes feeds keeps thousands of streams open.
constexpr std::size_t chunk_size = 16 * 1024;

/// What a refusing server's body may be at most (its reason is all that is needed).
constexpr std::size_t error_body_limit = 64 * 1024;

/// One streamed response. Everything runs on the strand of its socket; read() and close() post onto it.
///
/// Steps: start -> resolve -> connect -> handshake (https only) -> write -> read_head, then either read_error_body
/// (non-2xx) or, per read(), read_lines until at least one line, the end or an error. The egress policy judges each
/// address right before connect tries it; a reconnect is a new stream, judged again.
class stream_connection : public line_stream, public std::enable_shared_from_this<stream_connection> {
public:
  stream_connection(asio::io_context& ioc, tls_context_ptr tls, std::shared_ptr<const egress_policy> egress,
                    stream_request req, http_client::stream_handler on_update)
    : stream_(asio::make_strand(ioc)),
      resolver_(stream_.get_executor()),
      gate_(std::move(egress), req.destination.host),
      timer_(stream_.get_executor()),
      req_(std::move(req)),
      splitter_(req_.max_line),
      on_update_(std::move(on_update)) {
    if (req_.destination.scheme == "https")
      stream_.enable_tls(*tls);
    // Beast reads at most the buffer's free capacity per call: without room, it would read a few hundred bytes at
    // a time and deliver a few lines per update.
    buffer_.reserve(buffer_.max_size());
  }

  void start() {
    asio::post(stream_.get_executor(), beast::bind_front_handler(&stream_connection::run, shared_from_this()));
  }

  /// Fails the stream at once (on an I/O thread, as the interface promises) with `problem`.
  void refuse(std::string problem) {
    asio::post(stream_.get_executor(), beast::bind_front_handler(&stream_connection::report_error, shared_from_this(),
                                                                 transport_failure::no_response, std::move(problem)));
  }

  // line_stream

  void read() override {
    asio::post(stream_.get_executor(), beast::bind_front_handler(&stream_connection::do_read, shared_from_this()));
  }

  void close() override {
    if (closed_.exchange(true))
      return;
    asio::post(stream_.get_executor(), beast::bind_front_handler(&stream_connection::shut, shared_from_this()));
  }

private:
  // -- deadlines --------------------------------------------------------------

  /// One timer serves the head deadline and the idle limit; when it fires the socket closes, which fails whatever
  /// operation is under way, and `expired_` says why.
  void arm(std::chrono::milliseconds limit, const char* why) {
    expired_ = nullptr;
    timer_.expires_after(limit);
    // A wait that already fired cannot be cancelled: its handler is queued on the strand. The generation tells it
    // that the timer was re-armed or disarmed since.
    timer_.async_wait([self = shared_from_this(), why, generation = ++timer_generation_](beast::error_code ec) {
      if (ec == asio::error::operation_aborted || generation != self->timer_generation_)
        return;
      self->expired_ = why;
      self->resolver_.cancel();
      beast::error_code ignored;
      self->stream_.tcp().socket().close(ignored);
    });
  }

  void disarm() {
    ++timer_generation_;
    timer_.cancel();
  }

  // -- steps ------------------------------------------------------------------

  void run() {
    if (closed_)
      return;
    arm(req_.connect_timeout, "timeout");
    build_request(request_, req_.message, req_.destination.target, host_field_of(req_.destination), false);
    beast::error_code ec;
    auto address = asio::ip::make_address(req_.destination.host, ec);
    if (!ec) {
      // An address literal needs no resolver.
      std::array<tcp::endpoint, 1> endpoints{tcp::endpoint{address, req_.destination.port}};
      return connect(endpoints);
    }
    resolver_.async_resolve(req_.destination.host, std::to_string(req_.destination.port),
                            beast::bind_front_handler(&stream_connection::on_resolve, shared_from_this()));
  }

  void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (ec)
      return fail(transport_failure::unresolved, "resolve", ec);
    connect(results);
  }

  template <class Endpoints>
  void connect(const Endpoints& endpoints) {
    gate_.reset();
    stream_.tcp().async_connect(
      endpoints,
      [self = shared_from_this()](const beast::error_code&, const tcp::endpoint& next) {
        return self->gate_.allows(next);
      },
      [self = shared_from_this()](beast::error_code ec, const tcp::endpoint&) { self->on_connect(ec); });
  }

  void on_connect(beast::error_code ec) {
    if (ec && gate_.refused_all() && !expired_)
      return report_error(transport_failure::not_allowed, std::string{egress_refusal_text});
    if (ec)
      return fail(transport_failure::no_response, "connect", ec);
    auto* tls = stream_.tls();
    if (!tls)
      return write();
    if (auto problem = prepare_client_tls(tls->native_handle(), req_.destination.host))
      return fail(transport_failure::no_response, "tls handshake", problem);
    tls->async_handshake(asio::ssl::stream_base::client,
                         beast::bind_front_handler(&stream_connection::on_handshake, shared_from_this()));
  }

  void on_handshake(beast::error_code ec) {
    if (ec && !expired_)
      return report_error(transport_failure::no_response, handshake_error_text(ec, stream_.tls()->native_handle()));
    if (ec)
      return fail(transport_failure::no_response, "tls handshake", ec);
    write();
  }

  void write() {
    http::async_write(stream_, request_, beast::bind_front_handler(&stream_connection::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec)
      return fail(transport_failure::no_response, "write", ec);
    request_ = {};
    parser_.emplace();
    parser_->header_limit(response_header_limit);
    // The feed is endless; lines are bounded instead. Not boost::none: Beast 1.74 compares a Content-Length against
    // an empty limit as if it were exceeded.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&stream_connection::on_head, shared_from_this()));
  }

  void on_head(beast::error_code ec, std::size_t) {
    if (ec)
      return fail(read_failure(ec), "read", ec);
    status_ = static_cast<int>(parser_->get().result_int());
    if (status_ < 200 || status_ >= 300)
      return read_error_body();
    disarm();
    stream_update update;
    update.status = status_;
    deliver(std::move(update));
  }

  /// Reads what a refusing server says, up to error_body_limit bytes, within the head deadline still running.
  void read_error_body() {
    if (parser_->is_done() || error_body_.size() >= error_body_limit)
      return finish_error_body();
    read_some([self = shared_from_this()](beast::error_code ec, std::string_view bytes) {
      self->error_body_.append(bytes.substr(0, error_body_limit - self->error_body_.size()));
      if (ec)
        return self->finish_error_body();
      self->read_error_body();
    });
  }

  void finish_error_body() {
    disarm();
    stream_update update;
    update.status = status_;
    update.body = std::move(error_body_);
    update.ended = true;
    deliver(std::move(update));
    shut();
  }

  void do_read() {
    if (closed_ || reading_ || !parser_ || status_ == 0)
      return;
    reading_ = true;
    arm(req_.idle_timeout, "idle timeout");
    read_lines();
  }

  void read_lines() {
    if (parser_->is_done())
      return finish_lines(splitter_.finish(), true);
    read_some([self = shared_from_this()](beast::error_code ec, std::string_view bytes) {
      self->on_bytes(ec, bytes);
    });
  }

  void on_bytes(beast::error_code ec, std::string_view bytes) {
    if (ec)
      return fail(expired_ ? transport_failure::idle : transport_failure::connection_lost, "read", ec);
    if (!bytes.empty())
      arm(req_.idle_timeout, "idle timeout"); // a heartbeat keeps the stream alive
    if (!splitter_.feed(bytes))
      return report_error(transport_failure::too_large,
                          "line longer than " + std::to_string(req_.max_line) + " bytes");
    if (auto lines = splitter_.take_lines(); !lines.empty())
      return finish_lines(std::move(lines), false);
    read_lines();
  }

  void finish_lines(std::vector<std::string> lines, bool ended) {
    disarm();
    reading_ = false;
    stream_update update;
    update.lines = std::move(lines);
    update.ended = ended;
    deliver(std::move(update));
    if (ended)
      shut();
  }

  /// Reads the next piece of the body into chunk_ and hands `done` the bytes that came (possibly none, while the
  /// parser works through chunk framing).
  template <class Done>
  void read_some(Done done) {
    auto& body = parser_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    http::async_read_some(stream_, buffer_, *parser_,
                          [self = shared_from_this(), done = std::move(done)](beast::error_code ec, std::size_t) {
                            auto used = self->chunk_.size() - self->parser_->get().body().size;
                            // need_buffer only says that chunk_ is full.
                            if (ec == http::error::need_buffer)
                              ec = {};
                            done(ec, std::string_view{self->chunk_.data(), used});
                          });
  }

  // -- endings ----------------------------------------------------------------

  /// Fails the stream with the tenant's `kind` and the operator's detail of `step`: the deadline that closed the
  /// socket ("timeout", "idle timeout") when that is why, otherwise the error.
  void fail(transport_failure kind, const char* step, beast::error_code ec) {
    report_error(kind, expired_ ? std::string{expired_} : error_text(step, ec));
  }

  void report_error(transport_failure kind, std::string error) {
    disarm();
    stream_update update;
    update.failure = kind;
    update.error = std::move(error);
    deliver(std::move(update));
    shut();
  }

  void deliver(stream_update update) {
    if (closed_)
      return;
    on_update_(std::move(update));
  }

  void shut() {
    closed_ = true;
    disarm();
    resolver_.cancel();
    beast::error_code ignored;
    stream_.tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.tcp().close();
  }

  maybe_tls_stream stream_;
  tcp::resolver resolver_;
  egress_gate gate_;
  asio::steady_timer timer_;
  stream_request req_;
  http::request<http::string_body> request_; // (Must persist until async_write completes)
  beast::flat_buffer buffer_{2 * chunk_size}; // raw bytes between the socket and the parser
  std::optional<http::response_parser<http::buffer_body>> parser_;
  std::array<char, chunk_size> chunk_{}; // decoded body bytes of one read
  line_splitter splitter_;               // the body's bytes as lines
  std::string error_body_;
  const char* expired_ = nullptr; ///< set when the timer closed the socket: "timeout" or "idle timeout"
  std::uint64_t timer_generation_ = 0;
  int status_ = 0;
  bool reading_ = false;
  std::atomic<bool> closed_{false};
  http_client::stream_handler on_update_;
};

} // namespace

line_stream_ptr open_line_stream(asio::io_context& ioc, tls_context_ptr tls,
                                 std::shared_ptr<const egress_policy> egress, stream_request req,
                                 http_client::stream_handler on_update) {
  auto problem = request_problem(req.destination, req.message);
  auto stream = std::make_shared<stream_connection>(ioc, std::move(tls), std::move(egress), std::move(req),
                                                    std::move(on_update));
  if (problem.empty())
    stream->start();
  else
    stream->refuse(std::move(problem));
  return stream;
}

} // namespace feedrouter

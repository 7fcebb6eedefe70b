#include "net/http_server.hpp"

#include <algorithm>
#include <array>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/text.hpp"
#include "net/detail/asio_context.hpp"
#include "net/detail/maybe_tls_stream.hpp"
#include "net/detail/request_reader.hpp"
#include "net/detail/tls_context.hpp"

namespace feedrouter {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// -- limits and timeouts ------------------------------------------------------

/// How long writing one response may take; a client that stops reading is dropped after this.
constexpr std::chrono::seconds write_timeout{30};

/// How long a TLS client may take to complete its handshake after connecting.
constexpr std::chrono::seconds handshake_timeout{10};

/// How long a rejected request's remaining input is read and discarded before closing. Closing a socket with unread
/// input makes the kernel send a reset, which can destroy the error response before the client reads it.
constexpr std::chrono::seconds linger_timeout{2};

/// How many bytes of a rejected request are discarded at most before closing anyway.
constexpr std::size_t linger_limit = 256 * 1024;

/// Size of the scratch buffer that discarded input is read into.
constexpr std::size_t linger_chunk = 4096;

/// Most bytes one read from a connection asks for; the request buffer grows towards it as requests need.
constexpr std::size_t read_chunk_limit = 64 * 1024;

/// The interim answer to "Expect: 100-continue": the head is accepted, the client may send the body.
constexpr std::string_view continue_response = "HTTP/1.1 100 Continue\r\n\r\n";

/// Pause before accepting again after an accept error, so that a full file descriptor table does not spin a core.
constexpr std::chrono::milliseconds accept_retry_delay{100};

/// The session list is pruned of closed sessions when it reaches this size (and then twice its live size).
constexpr std::size_t session_prune_threshold = 64;

constexpr char server_name[] = "feedrouter";

/// The status sent when the application answers with a code HTTP cannot carry.
constexpr int fallback_status = 500;

static_assert(linger_chunk <= linger_limit);

// -- helpers ------------------------------------------------------------------

/// Everything a session needs from its server; shared and never changed after start.
struct server_config {
  http_server::options opts;
  http_server::handler on_request;
  tls_context_ptr tls; ///< set when the server speaks TLS
};

using server_config_ptr = std::shared_ptr<const server_config>;

/// Returns whether a response with `status` must not carry a body (RFC 9110 section 6.4.1).
bool is_bodiless_status(int status) noexcept {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

// -- session ------------------------------------------------------------------

/// One accepted connection: reads a request, hands it to the application, writes the answer, and reads the next:
/// run -> (over TLS: do_handshake -> on_handshake ->) do_read -> parse_buffered, then do_read_some -> on_read_some ->
/// parse_buffered until the request is read whole -> dispatch_request -> respond -> do_write -> on_write -> do_read.
/// A request that expects 100-continue gets it once its head is accepted (do_write_continue -> on_write_continue).
/// A refused request is answered, then the connection closes (reject -> on_write -> start_linger -> do_close).
///
/// Everything runs on the connection's strand. Only one request is in flight: the next one is read after the
/// response to the current one is written, so responses never need reordering.
class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket&& socket, server_config_ptr config)
    : stream_(std::move(socket)), config_(std::move(config)) {
    if (config_->tls)
      stream_.enable_tls(*config_->tls);
  }

  /// Starts the handshake or reading requests.
  void run() {
    // The socket was accepted onto its own strand; every member below runs there.
    auto first_step = stream_.tls() ? &session::do_handshake : &session::do_read;
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(first_step, shared_from_this()));
  }

  /// Closes the connection from any thread; idempotent.
  void close() {
    asio::post(stream_.get_executor(), beast::bind_front_handler(&session::do_close, shared_from_this()));
  }

private:
  /// What on_write does once a response is out.
  enum class after_write {
    read_next, ///< keep-alive: read the next request
    close,     ///< the client or the application asked to close
    linger,    ///< a rejected request: input may remain unread, so drain it before closing
  };

  void do_handshake() {
    if (closed_)
      return;
    stream_.tcp().expires_after(handshake_timeout);
    stream_.tls()->async_handshake(asio::ssl::stream_base::server,
                                   beast::bind_front_handler(&session::on_handshake, shared_from_this()));
  }

  void on_handshake(beast::error_code ec) {
    if (closed_ || ec == asio::error::operation_aborted)
      return;
    // A plain-HTTP client, an untrusting client or a port scanner: nothing to answer in TLS or in clear text.
    if (ec)
      return fail(ec, "tls handshake");
    do_read();
  }

  void do_read() {
    if (closed_)
      return;
    // A reader reads one request only, so each request gets a fresh one with the limits applied.
    reader_.emplace(config_->opts.header_limit, config_->opts.body_limit);
    continue_sent_ = false;
    // One deadline for the whole request: a client that trickles its bytes cannot hold the connection longer.
    stream_.tcp().expires_after(config_->opts.idle_timeout);
    // The buffer may hold the start of this request already: it came behind the previous one.
    parse_buffered();
  }

  /// Hands the reader what the buffer holds, drops what it used, and acts on how far the request got.
  void parse_buffered() {
    auto data = buffer_.data();
    auto used = reader_->put({static_cast<const char*>(data.data()), data.size()});
    buffer_.consume(used);
    switch (reader_->progress()) {
      case request_reader::phase::head:
        return do_read_some();
      case request_reader::phase::body:
        if (reader_->expects_continue() && !continue_sent_)
          return do_write_continue();
        return do_read_some();
      case request_reader::phase::done:
        return dispatch_request();
      case request_reader::phase::refused:
        return reject(reader_->refusal());
    }
  }

  void do_read_some() {
    auto room = beast::read_size(buffer_, read_chunk_limit);
    stream_.async_read_some(buffer_.prepare(room),
                            beast::bind_front_handler(&session::on_read_some, shared_from_this()));
  }

  void on_read_some(beast::error_code ec, std::size_t n) {
    if (closed_ || ec == asio::error::operation_aborted)
      return;
    // The client closed a kept-alive connection between requests, or went away in the middle of one: nobody is left
    // to answer.
    if (ec == asio::error::eof)
      return do_close();
    // The deadline passed; the stream is closed already.
    if (ec == beast::error::timeout)
      return do_close();
    if (ec)
      return fail(ec, "read");
    buffer_.commit(n);
    parse_buffered();
  }

  /// Tells a client that waits before sending its body that the head is accepted (RFC 9110 section 10.1.1).
  void do_write_continue() {
    continue_sent_ = true;
    stream_.tcp().expires_after(write_timeout);
    asio::async_write(stream_, asio::buffer(continue_response.data(), continue_response.size()),
                      beast::bind_front_handler(&session::on_write_continue, shared_from_this()));
  }

  void on_write_continue(beast::error_code ec, std::size_t) {
    if (closed_ || ec == asio::error::operation_aborted)
      return;
    if (ec)
      return fail(ec, "write");
    // The client starts sending the body only now: the body gets a deadline of its own.
    stream_.tcp().expires_after(config_->opts.idle_timeout);
    do_read_some();
  }

  void dispatch_request() {
    keep_alive_ = reader_->keep_alive();
    http10_ = reader_->http10();
    auto req = reader_->release();
    reader_.reset();
    head_request_ = req.method == "HEAD";
    ++request_id_;
    awaiting_response_ = true;
    // Last step of reading: the application may answer inline, which starts do_write right here.
    try {
      config_->on_request(std::move(req), make_responder());
    } catch (const std::exception&) {
      // A handler should not throw; if it does, the client still gets an answer (ignored if one was sent already).
      respond(request_id_, error_response(fallback_status, "internal error", "request"));
    }
  }

  /// Returns the responder for the current request; it keeps this session alive until it is called or dropped.
  http_server::responder make_responder() {
    return [self = shared_from_this(), id = request_id_](http_response res) {
      auto executor = self->stream_.get_executor();
      asio::dispatch(executor, beast::bind_front_handler(&session::respond, self, id, std::move(res)));
    };
  }

  void respond(std::uint64_t id, http_response res) {
    // Closed already, or a second answer to the same request: both are ignored, as documented.
    if (closed_ || !awaiting_response_ || id != request_id_)
      return;
    awaiting_response_ = false;
    do_write(std::move(res));
  }

  void do_write(http_response res) {
    auto close = prepare_response(std::move(res), !keep_alive_);
    start_write(close ? after_write::close : after_write::read_next);
  }

  /// Answers a refused request with the application's rendering of the error, then closes.
  void reject(const request_refusal& why) {
    auto res = error_response(why.status, why.message, why.field);
    reader_.reset();
    // The answer to a refused HEAD request carries its body too: the request was not understood as a HEAD.
    head_request_ = false;
    prepare_response(std::move(res), true);
    start_write(after_write::linger);
  }

  /// Fills res_ from `res`; returns whether the connection closes after it (`close`, or the application asked).
  bool prepare_response(http_response res, bool close) {
    auto status = (res.status >= 100 && res.status <= 999) ? res.status : fallback_status;
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(status));
    for (auto& [name, value] : res.fields) {
      // The transport owns framing and identification; and a line break inside a field would split the response.
      if (iequals(name, "content-length") || iequals(name, "transfer-encoding") || iequals(name, "server")
          || has_line_break(name) || has_line_break(value))
        continue;
      if (iequals(name, "connection")) {
        close = close || has_token(value, "close");
        continue;
      }
      res_.insert(name, value);
    }
    res_.set(http::field::server, server_name);
    res_.keep_alive(!close);
    // An HTTP/1.0 client keeps the connection only when the response says so (RFC 9112 section 9.3).
    if (!close && http10_)
      res_.set(http::field::connection, "keep-alive");
    if (is_bodiless_status(status)) {
      // No Content-Length either: these responses end with their header.
    } else {
      res_.body() = std::move(res.body);
      res_.prepare_payload();
      // A response to HEAD announces the length of the body it does not carry.
      if (head_request_)
        res_.body().clear();
    }
    return close;
  }

  /// Returns the application's rendering of an error the server answers on its own, with `status` kept.
  http_response error_response(int status, std::string_view message, std::string_view field) const {
    http_response res;
    try {
      res = config_->opts.render_error(status, message, field);
    } catch (const std::exception&) {
      // Also an empty renderer (std::bad_function_call): the client still learns what went wrong.
      res = plain_text_error(status, message, field);
    }
    res.status = status;
    return res;
  }

  void start_write(after_write next) {
    stream_.tcp().expires_after(write_timeout);
    http::async_write(stream_, res_, beast::bind_front_handler(&session::on_write, shared_from_this(), next));
  }

  void on_write(after_write next, beast::error_code ec, std::size_t) {
    if (closed_ || ec == asio::error::operation_aborted)
      return;
    if (ec)
      return fail(ec, "write");
    // Free the body now rather than keep it until the next response.
    res_ = {};
    switch (next) {
      case after_write::read_next:
        return do_read();
      case after_write::close:
        return do_close();
      case after_write::linger:
        return start_linger();
    }
  }

  void start_linger() {
    beast::error_code ignored;
    // Tells the client we are done; it sees the response, then EOF.
    stream_.tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    // One deadline for the whole drain: the timer applies collectively to the reads below.
    stream_.tcp().expires_after(linger_timeout);
    do_linger();
  }

  void do_linger() {
    // Straight from TCP, past any TLS layer: the input is thrown away, so there is no point in decrypting it.
    stream_.tcp().async_read_some(asio::buffer(linger_buffer_),
                                  beast::bind_front_handler(&session::on_linger, shared_from_this()));
  }

  void on_linger(beast::error_code ec, std::size_t n) {
    if (closed_ || ec == asio::error::operation_aborted)
      return;
    // EOF, timeout or reset all end the drain the same way.
    if (ec)
      return do_close();
    lingered_ += n;
    if (lingered_ >= linger_limit)
      return do_close();
    do_linger();
  }

  /// A client that goes away or misbehaves is routine for a server: the connection is closed, nothing is reported.
  void fail(beast::error_code, const char*) {
    do_close();
  }

  void do_close() {
    if (closed_)
      return;
    closed_ = true;
    beast::error_code ignored;
    // Over TLS no close_notify is sent: every response carries its length, so the client knows it got all of it.
    stream_.tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    // Close now, not when the last responder copy dies: the application may hold one for a long time.
    stream_.tcp().close();
  }

  maybe_tls_stream stream_;
  server_config_ptr config_;
  beast::flat_buffer buffer_; // (Must persist between reads: it may hold the start of the next request)
  std::optional<request_reader> reader_;
  http::response<http::string_body> res_; // (Must persist until async_write completes)
  std::array<char, linger_chunk> linger_buffer_;
  std::size_t lingered_ = 0;
  std::uint64_t request_id_ = 0; ///< tells a late or repeated responder call from the current one
  bool awaiting_response_ = false;
  bool continue_sent_ = false; ///< the current request got its 100 Continue
  bool keep_alive_ = false;
  bool http10_ = false;
  bool head_request_ = false;
  bool closed_ = false;
};

using session_ptr = std::shared_ptr<session>;

// -- listener -----------------------------------------------------------------

/// Accepts connections and keeps a weak list of live sessions so that stop() can close them.
///
/// stop() may come from any thread while an accept completes on an I/O thread, so every use of the acceptor, the
/// retry timer and the session list happens under `mutex_`.
class listener : public std::enable_shared_from_this<listener> {
public:
  listener(asio::io_context& ioc, server_config_ptr config)
    : ioc_(ioc), config_(std::move(config)), acceptor_(ioc), retry_timer_(ioc) {
    // nop
  }

  /// Binds and listens; throws std::runtime_error with a one-line message on failure.
  void listen() {
    const auto& opts = config_->opts;
    auto where = format_host_port(opts.host, opts.port);
    beast::error_code ec;
    auto endpoint = listen_endpoint(ec);
    if (!ec)
      acceptor_.open(endpoint.protocol(), ec);
    if (!ec)
      acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
      acceptor_.bind(endpoint, ec);
    if (!ec)
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec)
      port_ = acceptor_.local_endpoint(ec).port();
    if (ec)
      throw std::runtime_error("cannot listen on " + where + ": " + ec.message());
  }

  void run() {
    std::lock_guard<std::mutex> guard{mutex_};
    do_accept();
  }

  std::uint16_t port() const noexcept {
    return port_;
  }

  /// Closes the acceptor now and every live session soon after (on their strands); idempotent, any thread.
  void stop() {
    std::vector<std::weak_ptr<session>> sessions;
    {
      std::lock_guard<std::mutex> guard{mutex_};
      if (stopped_)
        return;
      stopped_ = true;
      beast::error_code ignored;
      acceptor_.close(ignored);
      retry_timer_.cancel();
      sessions.swap(sessions_);
    }
    for (auto& weak : sessions)
      if (auto s = weak.lock())
        s->close();
  }

private:
  tcp::endpoint listen_endpoint(beast::error_code& ec) {
    const auto& opts = config_->opts;
    auto address = asio::ip::make_address(opts.host, ec);
    if (!ec)
      return {address, opts.port};
    // A host name: resolving blocks, which is fine during startup.
    tcp::resolver resolver{ioc_};
    auto results = resolver.resolve(opts.host, std::to_string(opts.port), tcp::resolver::passive, ec);
    if (ec)
      return {};
    return results.begin()->endpoint();
  }

  // Called with mutex_ held.
  void do_accept() {
    // Each connection gets its own strand, so sessions run in parallel on several I/O threads.
    acceptor_.async_accept(asio::make_strand(ioc_),
                           beast::bind_front_handler(&listener::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted)
      return;
    std::lock_guard<std::mutex> guard{mutex_};
    if (stopped_)
      return;
    if (ec) {
      // E.g. too many open files: try again a little later instead of spinning.
      retry_timer_.expires_after(accept_retry_delay);
      retry_timer_.async_wait(beast::bind_front_handler(&listener::on_retry_timer, shared_from_this()));
      return;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto s = std::make_shared<session>(std::move(socket), config_);
    track(s);
    s->run();
    do_accept();
  }

  void on_retry_timer(beast::error_code ec) {
    if (ec == asio::error::operation_aborted)
      return;
    std::lock_guard<std::mutex> guard{mutex_};
    if (stopped_)
      return;
    do_accept();
  }

  // Called with mutex_ held.
  void track(const session_ptr& s) {
    if (sessions_.size() >= prune_at_) {
      sessions_.erase(std::remove_if(sessions_.begin(), sessions_.end(),
                                     [](const std::weak_ptr<session>& w) { return w.expired(); }),
                      sessions_.end());
      prune_at_ = std::max(session_prune_threshold, 2 * sessions_.size());
    }
    sessions_.emplace_back(s);
  }

  asio::io_context& ioc_;
  server_config_ptr config_;
  std::mutex mutex_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;
  std::vector<std::weak_ptr<session>> sessions_;
  std::size_t prune_at_ = session_prune_threshold;
  bool stopped_ = false;
  std::uint16_t port_ = 0; ///< set once by listen(), before any other thread sees the listener
};

using listener_ptr = std::shared_ptr<listener>;

// -- server -------------------------------------------------------------------

class server_impl final : public http_server {
public:
  explicit server_impl(listener_ptr l) : listener_(std::move(l)) {
    // nop
  }

  ~server_impl() override {
    stop();
  }

  // http_server

  std::uint16_t port() const noexcept override {
    return listener_->port();
  }

  void stop() override {
    listener_->stop();
  }

private:
  listener_ptr listener_;
};

} // namespace

http_response plain_text_error(int status, std::string_view message, std::string_view) {
  http_response res;
  res.status = status;
  res.fields.emplace_back("Content-Type", "text/plain; charset=utf-8");
  res.body = std::string{message} + '\n';
  return res;
}

http_server_ptr start_http_server(io_runtime& io, http_server::options opts, http_server::handler on_request) {
  tls_context_ptr tls;
  if (!opts.tls_cert_file.empty() || !opts.tls_key_file.empty()) {
    if (opts.tls_cert_file.empty() || opts.tls_key_file.empty())
      throw std::runtime_error("TLS needs both a certificate file and a key file");
    tls = make_server_tls_context(opts.tls_cert_file, opts.tls_key_file);
  }
  auto config = std::make_shared<const server_config>(
    server_config{std::move(opts), std::move(on_request), std::move(tls)});
  auto l = std::make_shared<listener>(io_context_of(io), std::move(config));
  l->listen();
  l->run();
  return std::make_unique<server_impl>(std::move(l));
}

} // namespace feedrouter

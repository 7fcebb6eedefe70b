#include "raw_http_server.hpp"
#include "core/text.hpp"

#include <array>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

namespace feedrouter::test {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::string_view header_end = "\r\n\r\n";

/// Returns the Content-Length of a request head, 0 when there is none.
std::size_t content_length_of(std::string_view head) {
  auto lower = ascii_lowercase(head);
  constexpr std::string_view name = "\r\ncontent-length:";
  auto pos = lower.find(name);
  if (pos == std::string::npos)
    return 0;
  return std::stoul(lower.substr(pos + name.size()));
}

/// Returns the target of a request head ("GET /x HTTP/1.1" -> "/x").
std::string target_of(std::string_view head) {
  auto first = head.find(' ');
  auto second = head.find(' ', first + 1);
  return std::string{head.substr(first + 1, second - first - 1)};
}

} // namespace

/// Everything the server thread and the test thread share; counters under `mutex`.
struct raw_http_server::state : std::enable_shared_from_this<raw_http_server::state> {
  explicit state(behavior what) : what(what), acceptor(ioc), guard(asio::make_work_guard(ioc)) {
    // nop
  }

  behavior what;
  std::optional<asio::ssl::context> tls; ///< set when the server speaks TLS
  asio::io_context ioc;
  tcp::acceptor acceptor;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::thread thread;
  std::uint16_t port = 0;
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::size_t connections = 0;
  std::vector<std::string> targets;
  std::vector<std::string> server_names;
  std::vector<std::string> requests; ///< each as received, head and body

  /// A connection that behavior::hold keeps for the test, indexed like `requests`.
  struct held_connection {
    std::function<void(std::string)> write; ///< queues bytes on the session; call on the server thread only
    std::size_t queued = 0;                 ///< bytes given to raw_http_server::write()
    std::size_t written = 0;                ///< bytes that went into the socket
    bool closed = false;                    ///< the client closed its end (or the server stopped)
  };
  std::vector<held_connection> held;
  std::vector<std::shared_ptr<tcp::socket>> sockets; ///< every accepted socket, closed on stop (server thread only)

  void listen();
  void do_accept();
  void on_accept(error_code ec, tcp::socket socket);
  void stop();
};

namespace {

/// One accepted connection, over TLS when `Tls`; everything runs on the server's single thread.
template <bool Tls>
class raw_session : public std::enable_shared_from_this<raw_session<Tls>> {
public:
  raw_session(std::shared_ptr<raw_http_server::state> server, std::shared_ptr<tcp::socket> socket)
    : server_(std::move(server)), socket_(std::move(socket)) {
    if constexpr (Tls)
      tls_.emplace(*socket_, *server_->tls);
  }

  void start() {
    if constexpr (Tls)
      tls_->async_handshake(asio::ssl::stream_base::server,
                            [self = this->shared_from_this()](error_code ec) { self->on_handshake(ec); });
    else
      do_read();
  }

private:
  /// Returns what requests are read from and responses written to.
  auto& stream() {
    if constexpr (Tls)
      return *tls_;
    else
      return *socket_;
  }

  void on_handshake(error_code ec) {
    if (ec)
      return;
    const char* name = SSL_get_servername(tls_->native_handle(), TLSEXT_NAMETYPE_host_name);
    {
      std::lock_guard<std::mutex> guard{server_->mutex};
      server_->server_names.emplace_back(name != nullptr ? name : "");
    }
    do_read();
  }

  void do_read() {
    asio::async_read_until(stream(), buffer_, header_end, [self = this->shared_from_this()](error_code ec,
                                                                                            std::size_t n) {
      self->on_read_head(ec, n);
    });
  }

  void on_read_head(error_code ec, std::size_t head_size) {
    if (ec)
      return;
    head_.assign(asio::buffers_begin(buffer_.data()), asio::buffers_begin(buffer_.data()) + head_size);
    buffer_.consume(head_size);
    target_ = target_of(head_);
    auto body_size = content_length_of(head_);
    auto missing = body_size > buffer_.size() ? body_size - buffer_.size() : 0;
    body_size_ = body_size;
    asio::async_read(stream(), buffer_, asio::transfer_exactly(missing),
                     [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_read_body(ec); });
  }

  void on_read_body(error_code ec) {
    if (ec)
      return;
    auto body_begin = asio::buffers_begin(buffer_.data());
    std::string request = head_ + std::string{body_begin, body_begin + static_cast<std::ptrdiff_t>(body_size_)};
    buffer_.consume(body_size_);
    auto hold = server_->what == raw_http_server::behavior::hold;
    {
      std::lock_guard<std::mutex> guard{server_->mutex};
      server_->targets.push_back(target_);
      server_->requests.push_back(std::move(request));
      if (hold) {
        // Registered before the test can see the request, so write() finds the connection.
        index_ = server_->held.size();
        server_->held.emplace_back().write = [weak = this->weak_from_this()](std::string bytes) {
          if (auto self = weak.lock())
            self->queue_write(std::move(bytes));
        };
      }
    }
    server_->changed.notify_all();
    if (hold)
      return watch_close();
    if (server_->what == raw_http_server::behavior::never_answer)
      return;
    response_ = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(target_.size())
                + "\r\n\r\n" + target_;
    asio::async_write(stream(), asio::buffer(response_),
                      [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(error_code ec) {
    if (ec)
      return;
    if (server_->what == raw_http_server::behavior::close_after_answer) {
      // Like a server's idle timeout: no TLS close_notify either.
      error_code ignored;
      socket_->close(ignored);
      return;
    }
    do_read();
  }

  // -- behavior::hold ----------------------------------------------------------

  void queue_write(std::string bytes) {
    if (bytes.empty())
      return;
    outbox_.push_back(std::move(bytes));
    if (outbox_.size() == 1)
      do_write_some();
  }

  /// Writes piece by piece, so that bytes_written() tells how far a client that stopped reading let the server get.
  void do_write_some() {
    const auto& front = outbox_.front();
    stream().async_write_some(asio::buffer(front.data() + sent_, front.size() - sent_),
                              [self = this->shared_from_this()](error_code ec, std::size_t n) {
                                self->on_write_some(ec, n);
                              });
  }

  void on_write_some(error_code ec, std::size_t n) {
    if (ec)
      return;
    {
      std::lock_guard<std::mutex> guard{server_->mutex};
      server_->held[index_].written += n;
    }
    server_->changed.notify_all();
    sent_ += n;
    if (sent_ == outbox_.front().size()) {
      outbox_.pop_front();
      sent_ = 0;
    }
    if (!outbox_.empty())
      do_write_some();
  }

  /// Reads and drops whatever the client sends until it closes its end.
  void watch_close() {
    stream().async_read_some(asio::buffer(discard_), [self = this->shared_from_this()](error_code ec, std::size_t) {
      if (!ec)
        return self->watch_close();
      {
        std::lock_guard<std::mutex> guard{self->server_->mutex};
        self->server_->held[self->index_].closed = true;
      }
      self->server_->changed.notify_all();
    });
  }

  std::shared_ptr<raw_http_server::state> server_;
  std::shared_ptr<tcp::socket> socket_;
  std::optional<asio::ssl::stream<tcp::socket&>> tls_; ///< over socket_, which stop() closes
  asio::streambuf buffer_;
  std::string head_;
  std::string target_;
  std::size_t body_size_ = 0;
  std::string response_;
  std::size_t index_ = 0;             ///< in server_->held (behavior::hold)
  std::deque<std::string> outbox_;    ///< bytes the test queued, not yet written (behavior::hold)
  std::size_t sent_ = 0;              ///< of outbox_.front()
  std::array<char, 4096> discard_{}; ///< what watch_close() reads
};

} // namespace

void raw_http_server::state::do_accept() {
  acceptor.async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void raw_http_server::state::on_accept(error_code ec, tcp::socket socket) {
  if (ec)
    return;
  {
    std::lock_guard<std::mutex> guard{mutex};
    ++connections;
  }
  auto shared_socket = std::make_shared<tcp::socket>(std::move(socket));
  sockets.push_back(shared_socket);
  if (tls)
    std::make_shared<raw_session<true>>(shared_from_this(), shared_socket)->start();
  else
    std::make_shared<raw_session<false>>(shared_from_this(), shared_socket)->start();
  do_accept();
}

void raw_http_server::state::stop() {
  error_code ignored;
  acceptor.close(ignored);
  for (auto& s : sockets)
    s->close(ignored);
  sockets.clear();
  guard.reset();
}

void raw_http_server::state::listen() {
  tcp::endpoint endpoint{asio::ip::make_address("127.0.0.1"), 0};
  acceptor.open(endpoint.protocol());
  acceptor.bind(endpoint);
  acceptor.listen();
  port = acceptor.local_endpoint().port();
  do_accept();
  thread = std::thread{[s = shared_from_this()] { s->ioc.run(); }};
}

raw_http_server::raw_http_server(behavior what) : state_(std::make_shared<state>(what)) {
  state_->listen();
}

raw_http_server::raw_http_server(behavior what, const std::string& cert_file, const std::string& key_file)
  : state_(std::make_shared<state>(what)) {
  auto& tls = state_->tls.emplace(asio::ssl::context::tls_server);
  tls.use_certificate_chain_file(cert_file);
  tls.use_private_key_file(key_file, asio::ssl::context::pem);
  state_->listen();
}

raw_http_server::~raw_http_server() {
  asio::post(state_->ioc, [s = state_] { s->stop(); });
  state_->thread.join();
}

std::uint16_t raw_http_server::port() const noexcept {
  return state_->port;
}

std::string raw_http_server::url(const std::string& target) const {
  return (state_->tls ? "https" : "http") + std::string{"://127.0.0.1:"} + std::to_string(state_->port) + target;
}

std::size_t raw_http_server::connections() const {
  std::lock_guard<std::mutex> guard{state_->mutex};
  return state_->connections;
}

std::vector<std::string> raw_http_server::targets() const {
  std::lock_guard<std::mutex> guard{state_->mutex};
  return state_->targets;
}

std::vector<std::string> raw_http_server::server_names() const {
  std::lock_guard<std::mutex> guard{state_->mutex};
  return state_->server_names;
}

std::vector<std::string> raw_http_server::requests() const {
  std::lock_guard<std::mutex> guard{state_->mutex};
  return state_->requests;
}

void raw_http_server::write(std::size_t index, std::string bytes) {
  {
    std::lock_guard<std::mutex> guard{state_->mutex};
    state_->held.at(index).queued += bytes.size();
  }
  // Posted one by one onto the single server thread, so the bytes go out in the order they were queued.
  asio::post(state_->ioc, [s = state_, index, bytes = std::move(bytes)]() mutable {
    std::function<void(std::string)> write;
    {
      std::lock_guard<std::mutex> guard{s->mutex};
      write = s->held[index].write;
    }
    write(std::move(bytes));
  });
}

std::size_t raw_http_server::bytes_written(std::size_t index) const {
  std::lock_guard<std::mutex> guard{state_->mutex};
  return state_->held.at(index).written;
}

bool raw_http_server::wait_for_flushed(std::size_t index, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> guard{state_->mutex};
  return state_->changed.wait_for(guard, timeout, [&] {
    return index < state_->held.size() && state_->held[index].written == state_->held[index].queued;
  });
}

bool raw_http_server::wait_for_close(std::size_t index, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> guard{state_->mutex};
  return state_->changed.wait_for(guard, timeout,
                                  [&] { return index < state_->held.size() && state_->held[index].closed; });
}

bool raw_http_server::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> guard{state_->mutex};
  return state_->changed.wait_for(guard, timeout, [&] { return state_->targets.size() >= n; });
}

} // namespace feedrouter::test

#include "raw_http_server.hpp"

#include <condition_variable>
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

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// Returns the Content-Length of a request head, 0 when there is none.
std::size_t content_length_of(std::string_view head) {
  std::string lower;
  lower.reserve(head.size());
  for (char c : head)
    lower += ascii_lower(c);
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
    std::string head{asio::buffers_begin(buffer_.data()), asio::buffers_begin(buffer_.data()) + head_size};
    buffer_.consume(head_size);
    target_ = target_of(head);
    auto body_size = content_length_of(head);
    auto missing = body_size > buffer_.size() ? body_size - buffer_.size() : 0;
    body_size_ = body_size;
    asio::async_read(stream(), buffer_, asio::transfer_exactly(missing),
                     [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_read_body(ec); });
  }

  void on_read_body(error_code ec) {
    if (ec)
      return;
    buffer_.consume(body_size_);
    {
      std::lock_guard<std::mutex> guard{server_->mutex};
      server_->targets.push_back(target_);
    }
    server_->changed.notify_all();
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

  std::shared_ptr<raw_http_server::state> server_;
  std::shared_ptr<tcp::socket> socket_;
  std::optional<asio::ssl::stream<tcp::socket&>> tls_; ///< over socket_, which stop() closes
  asio::streambuf buffer_;
  std::string target_;
  std::size_t body_size_ = 0;
  std::string response_;
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

bool raw_http_server::wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> guard{state_->mutex};
  return state_->changed.wait_for(guard, timeout, [&] { return state_->targets.size() >= n; });
}

} // namespace feedrouter::test

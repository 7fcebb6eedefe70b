#include "raw_http_client.hpp"
#include "core/text.hpp"

#include <future>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

namespace feedrouter::test {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::string_view header_end = "\r\n\r\n";

/// How an operation ended; returned through a future instead of an exception, so no exception object crosses threads.
struct io_outcome {
  error_code ec;
  std::size_t bytes = 0;
};

/// Completion token: the future carries the error code and byte count of the operation.
auto as_outcome() {
  return asio::use_future([](error_code ec, std::size_t n) { return io_outcome{ec, n}; });
}

} // namespace

std::string raw_response::field(std::string_view name) const {
  auto lower = ascii_lowercase(head);
  auto key = "\r\n" + ascii_lowercase(name) + ":";
  auto pos = lower.find(key);
  if (pos == std::string::npos)
    return {};
  auto begin = head.find_first_not_of(' ', pos + key.size());
  auto end = head.find("\r\n", begin);
  return head.substr(begin, end - begin);
}

/// The socket and the thread that runs its io_context; reads wait on futures with a deadline.
struct raw_http_client::state {
  state() : socket(ioc), guard(asio::make_work_guard(ioc)) {
    // nop
  }

  asio::io_context ioc;
  tcp::socket socket;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  std::thread thread;
  asio::streambuf buffer;

  /// Waits for `f` until `timeout`; on timeout cancels the socket's operations. Returns how the operation ended.
  io_outcome await(std::future<io_outcome> f, std::chrono::milliseconds timeout) {
    if (f.wait_for(timeout) != std::future_status::ready) {
      asio::post(ioc, [this] {
        error_code ignored;
        socket.cancel(ignored);
      });
    }
    return f.get();
  }
};

raw_http_client::raw_http_client(std::uint16_t port) : state_(std::make_unique<state>()) {
  state_->socket.connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), port});
  state_->thread = std::thread{[s = state_.get()] { s->ioc.run(); }};
}

raw_http_client::~raw_http_client() {
  close();
  state_->guard.reset();
  state_->thread.join();
}

void raw_http_client::send(std::string_view bytes) {
  auto written = asio::async_write(state_->socket, asio::buffer(bytes.data(), bytes.size()), as_outcome()).get();
  REQUIRE_FALSE(written.ec);
}

std::optional<raw_response> raw_http_client::read_response(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto remaining = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  };
  auto head = state_->await(
    asio::async_read_until(state_->socket, state_->buffer, std::string{header_end}, as_outcome()), remaining());
  if (head.ec)
    return std::nullopt;
  raw_response result;
  auto data = state_->buffer.data();
  result.head.assign(asio::buffers_begin(data), asio::buffers_begin(data) + static_cast<std::ptrdiff_t>(head.bytes));
  state_->buffer.consume(head.bytes);
  result.status = std::stoi(result.head.substr(result.head.find(' ') + 1, 3));
  auto length_text = result.field("content-length");
  std::size_t length = length_text.empty() ? 0 : std::stoul(length_text);
  if (state_->buffer.size() < length) {
    auto missing = length - state_->buffer.size();
    auto body = state_->await(
      asio::async_read(state_->socket, state_->buffer, asio::transfer_exactly(missing), as_outcome()), remaining());
    if (body.ec)
      return std::nullopt;
  }
  data = state_->buffer.data();
  result.body.assign(asio::buffers_begin(data), asio::buffers_begin(data) + static_cast<std::ptrdiff_t>(length));
  state_->buffer.consume(length);
  return result;
}

bool raw_http_client::wait_closed(std::chrono::milliseconds timeout) {
  // Reads until the connection ends: EOF or a reset means the server closed, operation_aborted means it did not.
  auto end = state_->await(asio::async_read(state_->socket, state_->buffer, asio::transfer_all(), as_outcome()),
                           timeout);
  return end.ec && end.ec != asio::error::operation_aborted;
}

void raw_http_client::close() {
  auto done = std::make_shared<std::promise<void>>();
  auto f = done->get_future();
  asio::post(state_->ioc, [s = state_.get(), done] {
    error_code ignored;
    s->socket.close(ignored);
    done->set_value();
  });
  f.wait();
}

} // namespace feedrouter::test

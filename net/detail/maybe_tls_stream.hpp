#pragma once

// Private to net/: a TCP stream that may carry TLS. Includes Beast; only net/http_client.cpp and net/http_server.cpp
// include this header.

#include <optional>
#include <utility>

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace feedrouter {

/// A Beast tcp_stream with an optional TLS layer on top, chosen at run time.
///
/// It is one AsyncReadStream/AsyncWriteStream type for both cases, so Beast's HTTP read and write operations are
/// compiled once per translation unit instead of once per stream type. Timeouts stay on the TCP layer: its deadline
/// covers the TLS handshake and every record read or written.
class maybe_tls_stream {
public:
  using tcp_layer = boost::beast::tcp_stream;
  using tls_layer = boost::beast::ssl_stream<tcp_layer&>; // its flat_stream merges each buffer sequence into one record
  using executor_type = tcp_layer::executor_type;

  /// Constructs a plain stream; `arg` is what tcp_stream takes: an executor, or a connected socket.
  template <class Arg>
  explicit maybe_tls_stream(Arg&& arg) : tcp_(std::forward<Arg>(arg)) {
    // nop
  }

  maybe_tls_stream(const maybe_tls_stream&) = delete;
  maybe_tls_stream& operator=(const maybe_tls_stream&) = delete;

  /// Adds the TLS layer; reads and writes go through it from now on (after its handshake).
  void enable_tls(boost::asio::ssl::context& ctx) {
    tls_.emplace(tcp_, ctx);
  }

  /// Returns the TCP layer: for connecting, deadlines and closing.
  tcp_layer& tcp() noexcept {
    return tcp_;
  }

  /// Returns the TLS layer, or nullptr when the stream is plain.
  tls_layer* tls() noexcept {
    return tls_ ? &*tls_ : nullptr;
  }

  executor_type get_executor() noexcept {
    return tcp_.get_executor();
  }

  // -- AsyncReadStream / AsyncWriteStream -------------------------------------

  // The initiating functions return nothing: they are only called by Beast's composed operations, which pass a
  // handler, never a completion token.

  template <class MutableBufferSequence, class ReadHandler>
  void async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    if (tls_)
      tls_->async_read_some(buffers, std::forward<ReadHandler>(handler));
    else
      tcp_.async_read_some(buffers, std::forward<ReadHandler>(handler));
  }

  template <class ConstBufferSequence, class WriteHandler>
  void async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    if (tls_)
      tls_->async_write_some(buffers, std::forward<WriteHandler>(handler));
    else
      tcp_.async_write_some(buffers, std::forward<WriteHandler>(handler));
  }

private:
  tcp_layer tcp_;
  std::optional<tls_layer> tls_; ///< declared after tcp_, which it refers to, so that it is destroyed first
};

} // namespace feedrouter

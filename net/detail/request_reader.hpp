#pragma once

// Private to net/: how the HTTP server reads a request from the bytes of a connection, without any I/O. Includes no
// Beast or Asio, so that a fuzz target can drive the same code as the server (tests/fuzz/http_request_fuzz.cpp).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "net/http_message.hpp"

namespace feedrouter {

/// Why the server refuses a request: the status it answers with, and what it tells the client.
struct request_refusal {
  int status = 0;
  std::string message;
  std::string field; ///< the part of the request at fault: "request", "headers", "body", or a field's name
};

/// Reads one HTTP/1.1 request from the bytes a connection delivers, and refuses every request whose end another HTTP
/// implementation could place elsewhere (request smuggling, RFC 9112 section 11.2): a transfer coding other than
/// chunked, Content-Length beside Transfer-Encoding, differing Content-Length values, obsolete line folding, a
/// missing or repeated Host, bare CR, LF or NUL.
///
/// The caller owns the buffer: put() parses from its front and returns how many bytes it used; the caller drops
/// those and calls put() again with what remains and what arrived since. Where the request ends does not depend on
/// how its bytes arrive. Bytes after the end belong to the next request, which a new reader reads.
class request_reader {
public:
  /// How far the reader got.
  enum class phase {
    head,    ///< waiting for the end of the header section
    body,    ///< the head is accepted; waiting for the rest of the body
    done,    ///< the request is complete: take it with release()
    refused, ///< the request is refused (see refusal()); the connection must close after the answer
  };

  /// Refuses a header section longer than `header_limit` bytes (431) and a body longer than `body_limit` (413); a
  /// chunk's size line and the trailer section may not exceed `header_limit` either (400).
  request_reader(std::size_t header_limit, std::size_t body_limit);
  ~request_reader();

  request_reader(request_reader&&) noexcept;
  request_reader& operator=(request_reader&&) noexcept;

  /// Parses from the front of `input` and returns how many bytes it used. Call it while progress() is head or body.
  std::size_t put(std::string_view input);

  /// Returns how far the reader got.
  phase progress() const noexcept;

  /// Returns whether the client waits for "100 Continue" before it sends the body. From phase body on.
  bool expects_continue() const noexcept;

  /// Returns whether the connection may carry another request after this one. From phase body on.
  bool keep_alive() const noexcept;

  /// Returns whether the request is HTTP/1.0, whose keep-alive the response must confirm. From phase body on.
  bool http10() const noexcept;

  /// Returns why the request was refused. In phase refused.
  const request_refusal& refusal() const noexcept;

  /// Moves the request out: the fields of its header section (never its trailer fields) and its body. In phase done.
  http_request release();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace feedrouter

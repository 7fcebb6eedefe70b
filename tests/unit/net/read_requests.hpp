#pragma once

// Reads a connection's bytes with request_reader the way the HTTP server's sessions do, delivered in pieces of sizes
// the caller chooses: for the reader's unit tests and its fuzz target (tests/fuzz/http_request_fuzz.cpp).

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/detail/request_reader.hpp"

namespace feedrouter::test {

/// What a connection's bytes amount to for the server.
struct read_outcome {
  std::vector<http_request> requests;     ///< the requests read whole, in order
  std::vector<std::size_t> ends;          ///< where each of them ends in the stream
  std::optional<request_refusal> refusal; ///< why the request after them was refused, if one was
  bool unfinished = false;                ///< the stream ends inside a request
};

/// Reads `stream` as a session does: a buffer gets the next piece (of the size `next_piece()` returns, at least 1)
/// whenever the reader needs more, the reader parses from its front, and a new reader starts after each request.
template <class NextPiece>
read_outcome read_requests(std::string_view stream, std::size_t header_limit, std::size_t body_limit,
                           NextPiece next_piece) {
  read_outcome out;
  std::string buffer;
  std::size_t delivered = 0;
  std::size_t consumed = 0;
  auto reader = std::make_unique<request_reader>(header_limit, body_limit);
  while (true) {
    auto used = reader->put(buffer);
    buffer.erase(0, used);
    consumed += used;
    switch (reader->progress()) {
      case request_reader::phase::done:
        out.requests.push_back(reader->release());
        out.ends.push_back(consumed);
        reader = std::make_unique<request_reader>(header_limit, body_limit);
        continue;
      case request_reader::phase::refused:
        out.refusal = reader->refusal();
        return out;
      case request_reader::phase::head:
      case request_reader::phase::body:
        break;
    }
    if (delivered == stream.size()) {
      out.unfinished = !buffer.empty() || reader->progress() == request_reader::phase::body;
      return out;
    }
    auto piece = std::min(std::max<std::size_t>(1, next_piece()), stream.size() - delivered);
    buffer.append(stream.substr(delivered, piece));
    delivered += piece;
  }
}

} // namespace feedrouter::test

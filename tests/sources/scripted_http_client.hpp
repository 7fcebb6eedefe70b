#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "net/http_client.hpp"
#include "net/http_message.hpp"

namespace feedrouter::test {

/// A stream opened through the scripted client: the test plays the server's side of it.
class scripted_stream final : public line_stream {
public:
  scripted_stream(stream_request req, http_client::stream_handler on_update);

  // line_stream
  void read() override;
  void close() override;

  // -- test side --------------------------------------------------------------------

  const stream_request& request() const noexcept {
    return req_;
  }

  /// Returns whether the reader asked for lines that were not yet given.
  bool read_pending() const noexcept {
    return read_pending_;
  }

  /// Returns how many times the reader asked for lines.
  std::size_t reads() const noexcept {
    return reads_;
  }

  bool closed() const noexcept {
    return closed_;
  }

  /// Sends the response head: `status`, and for a non-2xx status `body` and the end of the stream.
  void head(int status, std::string body = {});

  /// Answers the pending read with `lines` (and the end of the stream when `ended`); requires a pending read.
  void lines(std::vector<std::string> lines, bool ended = false);

  /// Fails the stream with a transport error such as "idle timeout" (the operator's detail) of kind `kind`.
  void fail(std::string error, transport_failure kind = transport_failure::no_response);

private:
  void deliver(stream_update update);

  stream_request req_;
  http_client::stream_handler on_update_;
  std::size_t reads_ = 0;
  bool read_pending_ = false;
  bool closed_ = false;
};

/// An http_client whose requests wait until the test answers them, oldest first, and whose streams the test plays.
///
/// Not thread-safe: with the testing scheduler, actors and the test share one thread.
class scripted_http_client : public http_client {
public:
  // -- http_client ----------------------------------------------------------------

  void send(client_request req, completion done) override;

  line_stream_ptr open_stream(stream_request req, stream_handler on_update) override;

  // -- streams ------------------------------------------------------------------------

  /// Returns the streams opened so far, oldest first.
  const std::vector<std::shared_ptr<scripted_stream>>& streams() const noexcept {
    return streams_;
  }

  /// Returns the newest stream; requires one.
  scripted_stream& last_stream() const;

  // -- test side --------------------------------------------------------------------

  std::size_t pending() const noexcept {
    return pending_.size();
  }

  /// Returns the oldest unanswered request; requires one.
  const client_request& next_request() const;

  /// Answers the oldest unanswered request with a response; requires one.
  void respond(int status, std::string body = {}, http_fields fields = {});

  /// Fails the oldest unanswered request with a transport error (the operator's detail) of kind `kind`; requires one.
  void fail(std::string error, transport_failure kind = transport_failure::no_response);

  /// Requests sent so far, answered or not.
  std::size_t sent() const noexcept {
    return sent_;
  }

private:
  struct exchange {
    client_request req;
    completion done;
  };

  completion take();

  std::deque<exchange> pending_;
  std::size_t sent_ = 0;
  std::vector<std::shared_ptr<scripted_stream>> streams_;
};

} // namespace feedrouter::test

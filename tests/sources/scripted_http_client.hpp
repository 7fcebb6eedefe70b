#pragma once

#include <cstddef>
#include <deque>
#include <string>

#include "net/http_client.hpp"
#include "net/http_message.hpp"

namespace feedrouter::test {

/// An http_client whose requests wait until the test answers them, oldest first.
///
/// Not thread-safe: with the testing scheduler, actors and the test share one thread.
class scripted_http_client : public http_client {
public:
  // -- http_client ----------------------------------------------------------------

  void send(client_request req, completion done) override;

  // -- test side --------------------------------------------------------------------

  std::size_t pending() const noexcept {
    return pending_.size();
  }

  /// Returns the oldest unanswered request; requires one.
  const client_request& next_request() const;

  /// Answers the oldest unanswered request with a response; requires one.
  void respond(int status, std::string body = {}, http_fields fields = {});

  /// Fails the oldest unanswered request with a transport error; requires one.
  void fail(std::string error);

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
};

} // namespace feedrouter::test

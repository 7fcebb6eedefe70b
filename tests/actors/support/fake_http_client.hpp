#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/time_format.hpp"
#include "net/http_client.hpp"

namespace feedrouter::test {

/// An http_client that sends nothing: it records each request with its completion and the simulated time it was
/// sent. Tests answer the requests explicitly, or let the client answer every new one at once with a canned result.
///
/// Everything runs on the test thread: a completion only does `caf::anon_send`, which the test coordinator delivers
/// on the next `run()`.
class fake_http_client : public http_client {
public:
  /// One request the client was asked to send.
  struct call {
    client_request request;
    sys_ms sent;      ///< simulated wall-clock time of the send
    completion done;  ///< called at most once, by answer() or fail()
    bool answered = false;
  };

  explicit fake_http_client(std::function<sys_ms()> now);

  // http_client
  void send(client_request req, completion done) override;

  /// Streams are not faked here (tests/sources has a scripted client for them): each fails at once.
  line_stream_ptr open_stream(stream_request req, stream_handler on_update) override;

  // -- canned answers ---------------------------------------------------------

  /// Answers every later request at once with HTTP `status`, `body` and the response headers `fields`.
  void answer_all(int status, std::string body = {}, http_fields fields = {});

  /// Answers every later request at once with what `responder` returns for it; it sees the request and its index.
  void respond_with(std::function<client_result(const client_request&, std::size_t index)> responder);

  /// Fails every later request at once with the transport error `error`.
  void fail_all(std::string error);

  /// Leaves later requests unanswered until the test answers them.
  void answer_none();

  // -- explicit answers -------------------------------------------------------

  /// Completes request number `index` with HTTP `status`, `body` and the response headers `fields`.
  void answer(std::size_t index, int status, std::string body = {}, http_fields fields = {});

  /// Completes request number `index` with the transport error `error`.
  void fail(std::size_t index, std::string error);

  /// Drops the completions of the requests still unanswered, as the real client does when it stops. A completion holds
  /// what its sender captured (a firer's trigger_env, which holds this client): kept, it would never be freed.
  void drop_unanswered();

  // -- inspection ---------------------------------------------------------------

  const std::vector<call>& calls() const noexcept {
    return calls_;
  }

  /// Returns the simulated times at which the requests were sent, in order.
  std::vector<sys_ms> sent_times() const;

  /// Returns how many requests still wait for an answer.
  std::size_t unanswered() const;

  /// Returns the bodies of the requests, in the order they were sent.
  std::vector<std::string> bodies() const;

private:
  void complete(call& x, client_result result);

  std::function<sys_ms()> now_;
  std::vector<call> calls_;
  std::optional<client_result> canned_;
  std::function<client_result(const client_request&, std::size_t)> responder_;
};

/// Returns an HTTP answer as the client would deliver it.
client_result http_answer(int status, std::string body = {}, http_fields fields = {});

/// Returns a transport error as the client would deliver it.
client_result transport_error(std::string error);

} // namespace feedrouter::test

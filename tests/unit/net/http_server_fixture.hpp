#pragma once

// What the HTTP server's tests share: options for a server on a free port, and handlers that answer or count.

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "net/http_message.hpp"
#include "net/http_server.hpp"

namespace feedrouter::test {

/// Bound on every wait in the server tests; reached only when something is broken.
constexpr std::chrono::seconds test_deadline{5};

/// Returns options for a server on 127.0.0.1 and a free port.
inline http_server::options local_options() {
  http_server::options opts;
  opts.host = "127.0.0.1";
  opts.port = 0;
  return opts;
}

/// Returns a GET request for `target` with a Host field.
inline std::string get_request(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}

/// Returns a text/plain response.
inline http_response text_response(int status, std::string body) {
  http_response res;
  res.status = status;
  res.fields.emplace_back("Content-Type", "text/plain");
  res.body = std::move(body);
  return res;
}

/// A handler that answers every request at once with "METHOD TARGET BODY" and counts the calls.
struct echo_handler {
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);

  void operator()(http_request req, http_server::responder respond) const {
    ++*calls;
    respond(text_response(200, req.method + " " + req.target + " " + req.body));
  }
};

/// A handler that hands each responder to the test instead of answering.
struct parking_handler {
  std::shared_ptr<std::promise<http_server::responder>> parked
    = std::make_shared<std::promise<http_server::responder>>();

  void operator()(http_request, http_server::responder respond) const {
    parked->set_value(std::move(respond));
  }
};

} // namespace feedrouter::test

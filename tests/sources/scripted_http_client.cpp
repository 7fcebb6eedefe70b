#include "scripted_http_client.hpp"

#include <stdexcept>
#include <utility>

namespace feedrouter::test {

void scripted_http_client::send(client_request req, completion done) {
  ++sent_;
  pending_.push_back({std::move(req), std::move(done)});
}

const client_request& scripted_http_client::next_request() const {
  if (pending_.empty())
    throw std::logic_error("no request is waiting for an answer");
  return pending_.front().req;
}

scripted_http_client::completion scripted_http_client::take() {
  if (pending_.empty())
    throw std::logic_error("no request is waiting for an answer");
  auto done = std::move(pending_.front().done);
  pending_.pop_front();
  return done;
}

void scripted_http_client::respond(int status, std::string body, http_fields fields) {
  client_result result;
  result.response.status = status;
  result.response.fields = std::move(fields);
  result.response.body = std::move(body);
  take()(std::move(result));
}

void scripted_http_client::fail(std::string error) {
  client_result result;
  result.error = std::move(error);
  take()(std::move(result));
}

} // namespace feedrouter::test

#include "scripted_http_client.hpp"

#include <stdexcept>
#include <utility>

namespace feedrouter::test {

scripted_stream::scripted_stream(stream_request req, http_client::stream_handler on_update)
  : req_(std::move(req)), on_update_(std::move(on_update)) {
  // nop
}

void scripted_stream::read() {
  if (read_pending_)
    throw std::logic_error("read() while a read is pending");
  ++reads_;
  read_pending_ = true;
}

void scripted_stream::close() {
  closed_ = true;
}

void scripted_stream::deliver(stream_update update) {
  // A closed stream reports nothing more, as the real one.
  if (!closed_)
    on_update_(std::move(update));
}

void scripted_stream::head(int status, std::string body) {
  stream_update update;
  update.status = status;
  if (status < 200 || status >= 300) {
    update.body = std::move(body);
    update.ended = true;
  }
  deliver(std::move(update));
}

void scripted_stream::lines(std::vector<std::string> lines, bool ended) {
  if (!read_pending_)
    throw std::logic_error("lines() without a pending read");
  read_pending_ = false;
  stream_update update;
  update.lines = std::move(lines);
  update.ended = ended;
  deliver(std::move(update));
}

void scripted_stream::fail(std::string error, transport_failure kind) {
  read_pending_ = false;
  stream_update update;
  update.error = std::move(error);
  update.failure = kind;
  deliver(std::move(update));
}

line_stream_ptr scripted_http_client::open_stream(stream_request req, stream_handler on_update) {
  streams_.push_back(std::make_shared<scripted_stream>(std::move(req), std::move(on_update)));
  return streams_.back();
}

scripted_stream& scripted_http_client::last_stream() const {
  if (streams_.empty())
    throw std::logic_error("no stream was opened");
  return *streams_.back();
}

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

void scripted_http_client::fail(std::string error, transport_failure kind) {
  client_result result;
  result.error = std::move(error);
  result.failure = kind;
  take()(std::move(result));
}

} // namespace feedrouter::test

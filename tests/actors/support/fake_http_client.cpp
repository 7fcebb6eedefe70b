#include "fake_http_client.hpp"

#include <stdexcept>

namespace feedrouter::test {

client_result http_answer(int status, std::string body, http_fields fields) {
  client_result result;
  result.response.status = status;
  result.response.fields = std::move(fields);
  result.response.body = std::move(body);
  return result;
}

client_result transport_error(std::string error) {
  client_result result;
  result.error = std::move(error);
  return result;
}

fake_http_client::fake_http_client(std::function<sys_ms()> now) : now_(std::move(now)) {
  // nop
}

void fake_http_client::send(client_request req, completion done) {
  calls_.push_back(call{std::move(req), now_(), std::move(done), false});
  if (responder_)
    complete(calls_.back(), responder_(calls_.back().request, calls_.size() - 1));
  else if (canned_)
    complete(calls_.back(), *canned_);
}

namespace {

class closed_stream final : public line_stream {
public:
  void read() override {
    // nop
  }

  void close() override {
    // nop
  }
};

} // namespace

line_stream_ptr fake_http_client::open_stream(stream_request, stream_handler on_update) {
  stream_update update;
  update.error = "fake_http_client does not stream";
  on_update(std::move(update));
  return std::make_shared<closed_stream>();
}

void fake_http_client::answer_all(int status, std::string body, http_fields fields) {
  responder_ = nullptr;
  canned_ = http_answer(status, std::move(body), std::move(fields));
}

void fake_http_client::respond_with(std::function<client_result(const client_request&, std::size_t)> responder) {
  canned_ = std::nullopt;
  responder_ = std::move(responder);
}

void fake_http_client::fail_all(std::string error) {
  responder_ = nullptr;
  canned_ = transport_error(std::move(error));
}

void fake_http_client::answer_none() {
  responder_ = nullptr;
  canned_ = std::nullopt;
}

void fake_http_client::answer(std::size_t index, int status, std::string body, http_fields fields) {
  complete(calls_.at(index), http_answer(status, std::move(body), std::move(fields)));
}

void fake_http_client::fail(std::size_t index, std::string error) {
  complete(calls_.at(index), transport_error(std::move(error)));
}

std::vector<sys_ms> fake_http_client::sent_times() const {
  std::vector<sys_ms> result;
  for (const auto& x : calls_)
    result.push_back(x.sent);
  return result;
}

std::vector<std::string> fake_http_client::bodies() const {
  std::vector<std::string> result;
  for (const auto& x : calls_)
    result.push_back(x.request.message.body);
  return result;
}

std::size_t fake_http_client::unanswered() const {
  std::size_t result = 0;
  for (const auto& x : calls_)
    if (!x.answered)
      ++result;
  return result;
}

void fake_http_client::complete(call& x, client_result result) {
  // The real client calls each completion exactly once; answering twice is a bug in the test.
  if (x.answered)
    throw std::logic_error("fake_http_client: request answered twice");
  x.answered = true;
  // Released once called, as the real client releases it: what it captured may hold this client.
  auto done = std::move(x.done);
  x.done = nullptr;
  done(std::move(result));
}

void fake_http_client::drop_unanswered() {
  for (auto& x : calls_)
    x.done = nullptr;
}

} // namespace feedrouter::test

#include "tests/e2e/blocking_client.hpp"

#include <future>
#include <memory>

#include "core/url.hpp"

namespace feedrouter::test {

namespace {

/// How long past the client's own timeout the caller waits for the completion, which never comes only on a bug.
constexpr std::chrono::milliseconds completion_margin{5'000};

} // namespace

blocking_client::blocking_client(io_runtime& io) : client_(make_http_client(io)) {
  // nop
}

client_result blocking_client::exchange(const std::string& base_url, http_request req) {
  auto where = parse_url(base_url + req.target, "url");
  if (!where)
    return {"bad url: " + where.error().message, {}};
  client_request creq;
  creq.destination = std::move(*where);
  creq.message = std::move(req);
  creq.timeout = exchange_timeout;
  auto done = std::make_shared<std::promise<client_result>>();
  auto result = done->get_future();
  client_->send(std::move(creq), [done](client_result r) { done->set_value(std::move(r)); });
  if (result.wait_for(exchange_timeout + completion_margin) != std::future_status::ready)
    return {"the client never completed the request", {}};
  return result.get();
}

} // namespace feedrouter::test

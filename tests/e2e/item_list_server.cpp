#include "tests/e2e/item_list_server.hpp"

namespace feedrouter::test {

item_list_server::item_list_server() {
  http_server::options opts;
  opts.port = 0;
  server_ = start_http_server(io_, opts, [this](http_request, http_server::responder respond) {
    http_response res;
    res.fields.emplace_back("Content-Type", "application/json");
    {
      std::lock_guard<std::mutex> guard{mutex_};
      res.body = body_locked();
    }
    ++polls_;
    respond(std::move(res));
  });
}

item_list_server::~item_list_server() {
  server_->stop();
  io_.stop();
}

std::string item_list_server::url() const {
  return "http://127.0.0.1:" + std::to_string(server_->port()) + "/items";
}

void item_list_server::add(int id) {
  std::lock_guard<std::mutex> guard{mutex_};
  ids_.insert(ids_.begin(), id);
}

std::string item_list_server::body_locked() const {
  std::string body = R"({"items":[)";
  for (std::size_t i = 0; i < ids_.size(); ++i)
    body += (i == 0 ? "" : ",") + std::string{R"({"id":)"} + std::to_string(ids_[i]) + "}";
  return body + "]}";
}

} // namespace feedrouter::test

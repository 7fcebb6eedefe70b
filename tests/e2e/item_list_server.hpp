#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "net/http_server.hpp"
#include "net/io_runtime.hpp"

namespace feedrouter::test {

/// A polled endpoint on 127.0.0.1: a JSON list of items `{"items": [{"id": N}, ...]}`, newest first, that the test
/// grows; counts the polls it answers.
class item_list_server {
public:
  item_list_server();
  ~item_list_server();

  item_list_server(const item_list_server&) = delete;
  item_list_server& operator=(const item_list_server&) = delete;

  /// Returns "http://127.0.0.1:PORT/items".
  std::string url() const;

  /// Adds an item at the head of the list, as a feed that lists the newest first does.
  void add(int id);

  /// Returns how many polls it answered.
  int polls() const {
    return polls_.load();
  }

private:
  std::string body_locked() const;

  io_runtime io_{1};
  http_server_ptr server_;
  mutable std::mutex mutex_;
  std::vector<int> ids_;
  std::atomic<int> polls_{0};
};

} // namespace feedrouter::test

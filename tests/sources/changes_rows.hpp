#pragma once

// What the changes source tests feed the source and expect back: the orders database on 127.0.0.1:5984.

#include <string>

namespace feedrouter::test {

/// Parameters of a registration on the orders database that starts at `since=now`, and one that starts at 0.
inline constexpr char db_params[] = R"({"url": "http://127.0.0.1:5984", "dbname": "orders", "heartbeatSeconds": 10})";
inline constexpr char from_zero[] = R"({"url": "http://127.0.0.1:5984", "dbname": "orders", "heartbeatSeconds": 10,
                                       "since": 0})";

/// The request target of the continuous feed, up to the value of `since`.
inline constexpr char feed_target[] = "/orders/_changes?feed=continuous&heartbeat=10000&since=";

/// Returns the request target of the continuous feed from `seq`.
inline std::string target_since(const std::string& seq) {
  return feed_target + seq;
}

/// Returns a change row of the continuous feed, as CouchDB sends it.
inline std::string change(int seq, const std::string& id) {
  return "{\"seq\":" + std::to_string(seq) + ",\"id\":\"" + id + "\",\"changes\":[{\"rev\":\"1-" + id + "\"}]}";
}

/// Returns the checkpoint of the orders database at `seq`.
inline std::string orders_at(const std::string& seq) {
  return R"({"source":"http://127.0.0.1:5984/orders","seq":")" + seq + "\"}";
}

} // namespace feedrouter::test

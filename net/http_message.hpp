#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace feedrouter {

/// A header list as (name, value) pairs; names compare case-insensitively.
using http_fields = std::vector<std::pair<std::string, std::string>>;

/// Returns the value of the first header called `name` (case-insensitive), or an empty view.
std::string_view find_field(const http_fields& fields, std::string_view name);

/// A request as the server received it, or as a client sends it.
struct http_request {
  std::string method; ///< upper case, e.g. "POST"
  std::string target; ///< path and query as sent, e.g. "/v1/triggers/ns/t?x=1"
  http_fields fields;
  std::string body;

  std::string_view field(std::string_view name) const {
    return find_field(fields, name);
  }
};

/// A response as a server sends it, or as a client received it.
struct http_response {
  int status = 200;
  http_fields fields; ///< Content-Length, Connection and Server are set by the transport
  std::string body;

  std::string_view field(std::string_view name) const {
    return find_field(fields, name);
  }
};

} // namespace feedrouter

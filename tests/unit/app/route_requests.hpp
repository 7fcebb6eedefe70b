#pragma once

#include <string>
#include <string_view>

#include "net/http_message.hpp"

namespace feedrouter::test {

/// The authKey the routing tests send.
inline constexpr std::string_view owner_key = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:secret";

/// A request with the owner's Basic auth; a body is declared as JSON.
http_request request(std::string method, std::string target, std::string body = {});

/// A request without any header.
http_request anonymous(std::string method, std::string target);

/// A feed-action request: no Authorization header, the authKey travels in the body.
http_request lifecycle(std::string body);

} // namespace feedrouter::test

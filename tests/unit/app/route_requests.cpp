#include "tests/unit/app/route_requests.hpp"

#include "core/auth_key.hpp"

namespace feedrouter::test {

http_request request(std::string method, std::string target, std::string body) {
  auto req = anonymous(std::move(method), std::move(target));
  req.fields.emplace_back("Authorization", basic_authorization(owner_key));
  if (!body.empty())
    req.fields.emplace_back("Content-Type", "application/json");
  req.body = std::move(body);
  return req;
}

http_request anonymous(std::string method, std::string target) {
  http_request req;
  req.method = std::move(method);
  req.target = std::move(target);
  return req;
}

http_request lifecycle(std::string body) {
  auto req = anonymous("POST", "/v1/lifecycle");
  req.fields.emplace_back("Content-Type", "application/json");
  req.body = std::move(body);
  return req;
}

} // namespace feedrouter::test

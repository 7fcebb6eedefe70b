#include "app/forwarding.hpp"

#include <algorithm>
#include <charconv>

#include "core/crypto.hpp"
#include "core/text.hpp"

namespace feedrouter {

namespace {

/// Fields that belong to one connection or to the message's framing, not to the request or response itself.
constexpr std::string_view hop_by_hop[] = {
  "Connection", "Keep-Alive",     "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
  "TE",         "Trailer",        "Transfer-Encoding", "Upgrade",           "Host",
  "Content-Length", "Date",       "Server",
};

bool is_hop_by_hop(std::string_view name) {
  return std::any_of(std::begin(hop_by_hop), std::end(hop_by_hop), [&](auto x) { return iequals(name, x); });
}

bool is_forwarding_field(std::string_view name) {
  for (auto field : {forwarded_by_field, forwarded_at_field, forwarded_signature_field})
    if (iequals(name, field))
      return true;
  return false;
}

std::string signature(std::string_view key, std::string_view by, std::string_view at, const http_request& req) {
  std::string text;
  for (auto part : {by, at, std::string_view{req.method}, std::string_view{req.target}})
    text.append(part).push_back('\n');
  text += sha256_hex(req.body);
  return hmac_sha256_hex(key, text);
}

} // namespace

http_request forwarded_request(const http_request& req, std::string_view key, std::string_view self_id, sys_ms now) {
  http_request result;
  result.method = req.method;
  result.target = req.target;
  result.body = req.body;
  for (const auto& [name, value] : req.fields)
    if (!is_hop_by_hop(name) && !is_forwarding_field(name))
      result.fields.emplace_back(name, value);
  auto at = std::to_string(now.time_since_epoch().count());
  result.fields.emplace_back(forwarded_by_field, self_id);
  result.fields.emplace_back(forwarded_at_field, at);
  result.fields.emplace_back(forwarded_signature_field, signature(key, self_id, at, result));
  return result;
}

forwarding_check check_forwarding(const http_request& req, std::string_view key, sys_ms now) {
  auto by = req.field(forwarded_by_field);
  auto at = req.field(forwarded_at_field);
  auto sig = req.field(forwarded_signature_field);
  forwarding_check result;
  if (by.empty() && at.empty() && sig.empty())
    return result;
  result.what = forwarding_check::kind::refused;
  std::int64_t at_ms = 0;
  auto [end, ec] = std::from_chars(at.data(), at.data() + at.size(), at_ms);
  if (by.empty() || ec != std::errc{} || end != at.data() + at.size()) {
    result.error = "a forwarded request needs " + std::string{forwarded_by_field} + " and "
                   + std::string{forwarded_at_field} + " (milliseconds since the epoch)";
    return result;
  }
  auto skew = std::chrono::milliseconds{at_ms} - now.time_since_epoch();
  if (skew > forwarding_window || -skew > forwarding_window) {
    result.error = std::string{forwarded_at_field} + " lies too far from this instance's clock";
    return result;
  }
  if (!constant_time_equal(sig, signature(key, by, at, req))) {
    result.error = std::string{forwarded_signature_field} + " does not match the request";
    return result;
  }
  result.what = forwarding_check::kind::forwarded;
  result.by = std::string{by};
  return result;
}

http_response relayed_response(http_response res) {
  auto& fields = res.fields;
  fields.erase(std::remove_if(fields.begin(), fields.end(), [](const auto& x) { return is_hop_by_hop(x.first); }),
               fields.end());
  return res;
}

} // namespace feedrouter

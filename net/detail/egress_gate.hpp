#pragma once

// Private to net/: the egress check of a client connection, shared by every client that connects to tenants'
// endpoints (the HTTP client, its streams, the MQTT client, the Redis client). Includes Asio's address types, no
// Beast.

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/egress_policy.hpp"
#include "core/ip_address.hpp"
#include "core/log.hpp"

namespace feedrouter::client_detail {

/// Returns the address of `address` as core/ judges it.
inline ip_address to_ip_address(const boost::asio::ip::address& address) {
  if (address.is_v4())
    return ip_address::v4(address.to_v4().to_bytes());
  return ip_address::v6(address.to_v6().to_bytes());
}

/// The egress check of one connection attempt: asked before each address of a destination is tried (an Asio
/// connect condition), it lets through the addresses the policy allows and counts the ones it refused, so that a
/// connect that tried none can say why. Without a policy every address passes.
class egress_gate {
public:
  egress_gate() = default;

  egress_gate(std::shared_ptr<const egress_policy> policy, std::string host)
    : policy_(std::move(policy)), host_(std::move(host)) {
    // nop
  }

  /// Starts a new connect: forgets the counts of the previous one.
  void reset() noexcept {
    refused_ = 0;
    tried_ = 0;
  }

  /// Returns whether `next` may be connected to; the refusal goes to the debug log with the policy's reason.
  bool allows(const boost::asio::ip::tcp::endpoint& next) {
    if (!policy_) {
      ++tried_;
      return true;
    }
    auto verdict = policy_->check_connection(host_, to_ip_address(next.address()), next.port());
    if (!verdict.allowed) {
      ++refused_;
      log(log_level::debug, "egress policy: refused a connection for ", host_, ": ", describe_refusal(verdict));
      return false;
    }
    ++tried_;
    return true;
  }

  /// Returns whether the connect failed because the policy refused every address it had.
  bool refused_all() const noexcept {
    return refused_ > 0 && tried_ == 0;
  }

private:
  std::shared_ptr<const egress_policy> policy_;
  std::string host_;
  std::size_t refused_ = 0;
  std::size_t tried_ = 0;
};

} // namespace feedrouter::client_detail

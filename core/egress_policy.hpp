#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_address.hpp"
#include "core/outcome.hpp"
#include "core/url.hpp"

namespace feedrouter {

/// What kind of destination an address is, as the egress policy sees it.
enum class destination_kind {
  global,          ///< a global unicast address: allowed by default
  unspecified,     ///< 0.0.0.0/8, :: (Linux connects to the host itself)
  loopback,        ///< 127.0.0.0/8, ::1
  private_network, ///< 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10, 64:ff9b:1::/48
  shared,          ///< 100.64.0.0/10, carrier-grade NAT (also used inside cloud networks)
  link_local,      ///< 169.254.0.0/16, fe80::/10
  multicast,       ///< 224.0.0.0/4, ff00::/8
  broadcast,       ///< 255.255.255.255
  reserved,        ///< documentation, benchmarking, future use, Teredo, discard-only
  cloud_metadata,  ///< the instance metadata services of cloud providers, such as 169.254.169.254
  provider_itself, ///< this provider's own listen address and port
};

/// An operator's exception to the default policy (`--allow-egress`): an address block, one address and port, or a
/// host name as tenants write it in their URLs, with or without a port.
struct egress_rule {
  std::string text;                  ///< as the operator wrote it, for messages
  std::optional<ip_network> network; ///< set for an address rule
  std::string host;                  ///< set for a host name rule: lower case, without a trailing '.'
  std::optional<std::uint16_t> port; ///< nullopt: any port
};

/// Parses one `--allow-egress` value: "CIDR" (10.0.0.0/8, fd00::/8, 127.0.0.1), "ADDRESS:PORT" (127.0.0.1:5984,
/// [::1]:5984), "HOST" or "HOST:PORT" (couchdb.internal:5984). An address must be in standard form (not 127.1).
/// Errors name `field`.
outcome<egress_rule> parse_egress_rule(std::string_view text, std::string_view field);

/// A socket this provider listens on: connections to it are refused unless a rule names exactly that address and port.
struct provider_endpoint {
  ip_network addresses; ///< one address, or a block when the provider listens on every address (0.0.0.0)
  std::uint16_t port = 0;
};

/// The policy's judgement of one destination.
struct egress_verdict {
  bool allowed = true;
  destination_kind kind = destination_kind::global;
  /// The address judged: the one connected to, or the IPv4 address an IPv4-mapped, IPv4-compatible or NAT64 IPv6
  /// address stands for.
  ip_address address;
  std::uint16_t port = 0;
};

/// What a tenant is shown for a refusal, in every place: distinct from the texts of connection failures, since it is
/// the provider's own decision and tells nothing about the destination.
inline constexpr std::string_view egress_refusal_text = "not allowed by the egress policy";

/// Returns why `verdict` refused, for a tenant who named the address as `host` (empty: as the address itself):
/// "127.0.0.1 is a loopback address", "2130706433 (127.0.0.1) is a loopback address", "127.0.0.1:8080 is this
/// provider's own address".
std::string describe_refusal(const egress_verdict& verdict, std::string_view host = {});

/// Which destinations the provider may connect to on a tenant's behalf (docs/architecture.md section 9).
///
/// By default only global unicast addresses: no loopback, private, shared (CGNAT), link-local, unspecified,
/// multicast, broadcast or reserved address, no cloud metadata service and not the provider's own listen address, in
/// any form (an IPv6 address that embeds an IPv4 one is judged as that IPv4 address). Operator rules open more:
/// an address rule opens the addresses in its block, a host rule the addresses that host name resolves to when a URL
/// names it. Two kinds stay closed unless a rule names them exactly: a cloud metadata address opens only for a rule
/// of that one address, and the provider's own endpoint only for a rule of that one address and its port. Wider rules
/// (127.0.0.0/8, 0.0.0.0/0, a host name) never open them.
///
/// The decision that counts is made on the address actually connected to (check_connection), after DNS and again on
/// every connection, so that neither a URL parser's quirk nor DNS rebinding gets past it; check_host answers early
/// for what needs no resolver. Immutable once made, so one policy serves every thread.
class egress_policy {
public:
  /// The default policy.
  egress_policy() = default;

  egress_policy(std::vector<egress_rule> rules, std::vector<provider_endpoint> provider);

  /// Judges a connection to `address`:`port` for a URL naming `host` (the URL's host, for host name rules).
  egress_verdict check_connection(std::string_view host, const ip_address& address, std::uint16_t port) const;

  /// Judges what can be judged without a resolver: `host` written as an address (in any form a resolver accepts,
  /// such as 2130706433 or [::ffff:127.0.0.1]), or a name that always means loopback (localhost, *.localhost,
  /// RFC 6761). Returns nullopt for other names: their addresses are judged when connecting.
  std::optional<egress_verdict> check_host(std::string_view host, std::uint16_t port) const;

  /// Returns the operator's rules, in the order given.
  const std::vector<egress_rule>& rules() const noexcept {
    return rules_;
  }

private:
  bool rule_allows(std::string_view host, const ip_address& address, std::uint16_t port) const;
  bool exact_rule_allows(const ip_address& address, std::optional<std::uint16_t> port) const;
  bool is_provider(const ip_address& address, std::uint16_t port) const;

  std::vector<egress_rule> rules_;
  std::vector<provider_endpoint> provider_;
};

/// Returns what kind of destination `address` is, before any rule: the default policy allows only `global`. An IPv6
/// address that embeds an IPv4 one (mapped, compatible, NAT64, 6to4) is judged by the IPv4 address.
destination_kind classify_address(const ip_address& address);

/// Returns the endpoints of a provider that listens on `port` of `listen` (the addresses its listen host stands for):
/// those addresses, and 0.0.0.0 and ::, which Linux connects to the host itself. A provider that listens on an
/// unspecified address is reached at every address of the host: then also all of `interfaces` and the loopback blocks.
std::vector<provider_endpoint> provider_endpoints(const std::vector<ip_address>& listen, std::uint16_t port,
                                                  const std::vector<ip_address>& interfaces);

/// Returns the error for the URL parameter `field` when `where` names a host the policy refuses without resolving it
/// (see egress_policy::check_host): "not allowed by the egress policy: 127.1 (127.0.0.1) is a loopback address".
std::optional<field_error> check_url_egress(const egress_policy& policy, const url& where, std::string_view field);

} // namespace feedrouter

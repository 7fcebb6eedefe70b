#include "core/egress_policy.hpp"

#include <algorithm>
#include <array>

#include "core/text.hpp"

namespace feedrouter {

namespace {

constexpr std::size_t max_port_digits = 5;
constexpr unsigned max_port = 65535;

/// Where an IPv6 address that stands for an IPv4 one keeps it: mapped (::ffff:0:0/96), IPv4-translated
/// (::ffff:0:0:0/96), NAT64 (64:ff9b::/96) and the deprecated IPv4-compatible form (::/96) all end in it.
constexpr std::size_t embedded_v4_offset = 12;

/// Where a 6to4 address (2002::/16) keeps the IPv4 address of its relay.
constexpr std::size_t six_to_four_offset = 2;

/// What the names of RFC 6761's localhost resolve to.
constexpr std::uint32_t loopback_v4 = 0x7f000001;

struct address_block {
  ip_network network;
  destination_kind kind;
};

ip_network network_of(std::string_view cidr) {
  // The tables below are written by hand and checked by the unit tests: a typo shows there at once.
  return parse_ip_network(cidr).value_or(ip_network{});
}

/// The special-purpose blocks of the IANA registries (RFC 6890 and its updates) that no tenant may reach by default.
/// The first block that holds an address decides, so a block comes before any wider one that contains it.
const std::vector<address_block>& special_blocks() {
  using k = destination_kind;
  static const std::vector<address_block> blocks = {
    {network_of("0.0.0.0/8"), k::unspecified},
    {network_of("10.0.0.0/8"), k::private_network},
    {network_of("100.64.0.0/10"), k::shared},
    {network_of("127.0.0.0/8"), k::loopback},
    {network_of("169.254.0.0/16"), k::link_local},
    {network_of("172.16.0.0/12"), k::private_network},
    {network_of("192.0.0.0/24"), k::reserved},    // IETF protocol assignments
    {network_of("192.0.2.0/24"), k::reserved},    // documentation
    {network_of("192.88.99.0/24"), k::reserved},  // 6to4 relay anycast
    {network_of("192.168.0.0/16"), k::private_network},
    {network_of("198.18.0.0/15"), k::reserved},   // benchmarking, often used inside data centres
    {network_of("198.51.100.0/24"), k::reserved}, // documentation
    {network_of("203.0.113.0/24"), k::reserved},  // documentation
    {network_of("224.0.0.0/4"), k::multicast},
    {network_of("255.255.255.255/32"), k::broadcast},
    {network_of("240.0.0.0/4"), k::reserved},
    {network_of("::/128"), k::unspecified},
    {network_of("::1/128"), k::loopback},
    {network_of("64:ff9b:1::/48"), k::private_network}, // local-use NAT64
    {network_of("::/8"), k::reserved},            // what is left of it once embedded IPv4 addresses are taken out
    {network_of("100::/64"), k::reserved},        // discard-only
    {network_of("2001::/32"), k::reserved},       // Teredo: tunnels to an obfuscated IPv4 address
    {network_of("2001:db8::/32"), k::reserved},   // documentation
    {network_of("3fff::/20"), k::reserved},       // documentation
    {network_of("fc00::/7"), k::private_network}, // unique local
    {network_of("fe80::/10"), k::link_local},
    {network_of("fec0::/10"), k::private_network}, // site-local, deprecated
    {network_of("ff00::/8"), k::multicast},
  };
  return blocks;
}

/// The instance metadata services of the large clouds: AWS, GCP, Azure, Oracle and DigitalOcean (169.254.169.254),
/// AWS ECS (169.254.170.2), Alibaba (100.100.100.200), Oracle's older one (192.0.0.192), AWS over IPv6.
const std::vector<ip_address>& metadata_addresses() {
  static const std::vector<ip_address> addresses = [] {
    std::vector<ip_address> result;
    for (auto text : {"169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254"})
      if (auto address = parse_ip_address(text))
        result.push_back(*address);
    return result;
  }();
  return addresses;
}

/// The prefixes whose IPv6 addresses stand for the IPv4 address in their last 32 bits.
const std::vector<ip_network>& embedding_prefixes() {
  static const std::vector<ip_network> prefixes = {network_of("::ffff:0:0/96"), network_of("::ffff:0:0:0/96"),
                                                   network_of("64:ff9b::/96"), network_of("::/96")};
  return prefixes;
}

bool is_metadata(const ip_address& address) {
  const auto& all = metadata_addresses();
  return std::find(all.begin(), all.end(), address) != all.end();
}

/// Returns the address a connection to `address` reaches: the IPv4 address an embedding IPv6 address stands for,
/// otherwise `address` itself. :: and ::1 are IPv6's own unspecified and loopback addresses, not IPv4-compatible.
ip_address unwrap(const ip_address& address) {
  if (address.is_v4())
    return address;
  static const ip_network unspecified = network_of("::/128");
  static const ip_network loopback = network_of("::1/128");
  if (unspecified.contains(address) || loopback.contains(address))
    return address;
  for (const auto& prefix : embedding_prefixes())
    if (prefix.contains(address))
      return address.embedded_v4(embedded_v4_offset);
  return address;
}

/// Returns the lower-case host name without one trailing '.': "LocalHost." and "localhost" are one name.
std::string normalize_host(std::string_view host) {
  if (!host.empty() && host.back() == '.')
    host.remove_suffix(1);
  return ascii_lowercase(host);
}

bool is_localhost_name(std::string_view name) {
  constexpr std::string_view localhost = "localhost";
  constexpr std::string_view dot_localhost = ".localhost";
  return name == localhost
         || (name.size() > dot_localhost.size()
             && name.compare(name.size() - dot_localhost.size(), dot_localhost.size(), dot_localhost) == 0);
}

bool is_host_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > max_port_digits
      || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  unsigned value = 0;
  for (char c : text)
    value = value * 10 + static_cast<unsigned>(c - '0');
  if (value == 0 || value > max_port)
    return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

const char* kind_text(destination_kind kind) {
  switch (kind) {
    case destination_kind::global:
      return "a global address";
    case destination_kind::unspecified:
      return "an unspecified address";
    case destination_kind::loopback:
      return "a loopback address";
    case destination_kind::private_network:
      return "a private address";
    case destination_kind::shared:
      return "a shared (carrier-grade NAT) address";
    case destination_kind::link_local:
      return "a link-local address";
    case destination_kind::multicast:
      return "a multicast address";
    case destination_kind::broadcast:
      return "the broadcast address";
    case destination_kind::reserved:
      return "a reserved address";
    case destination_kind::cloud_metadata:
      return "a cloud metadata address";
    case destination_kind::provider_itself:
      return "this provider's own address";
  }
  return "an address";
}

} // namespace

outcome<egress_rule> parse_egress_rule(std::string_view text, std::string_view field) {
  auto fail = [&](const std::string& why) {
    return field_error{std::string{field}, "'" + std::string{text} + "' " + why};
  };
  constexpr char expected[] = "is not an address block (10.0.0.0/8, fd00::/8), an address with an optional port "
                              "(127.0.0.1:5984, [::1]:5984) or a host name with an optional port (db.internal:5984)";
  egress_rule rule;
  rule.text = std::string{text};
  std::string_view host = text;
  std::string_view port;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos)
      return fail(expected);
    host = text.substr(1, close - 1);
    auto after = text.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return fail(expected);
      has_port = true;
      port = after.substr(1);
    }
    if (host.find(':') == std::string_view::npos || host.find('/') != std::string_view::npos)
      return fail(expected);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    auto colon = text.find(':');
    host = text.substr(0, colon);
    has_port = true;
    port = text.substr(colon + 1);
  }
  if (has_port) {
    rule.port = parse_port(port);
    if (!rule.port)
      return fail("must have a port from 1 to 65535 after ':'");
    if (host.find('/') != std::string_view::npos)
      return fail("cannot have a port: a port goes with one address or host name");
  }
  if (host.find(':') != std::string_view::npos || host.find('/') != std::string_view::npos
      || parse_ip_address(host)) {
    rule.network = parse_ip_network(host);
    if (!rule.network)
      return fail("is not an address block: an address in standard form, '/', a prefix length, and no bits set "
                  "after the prefix (10.0.0.0/8, fd00::/8)");
    if (unwrap(rule.network->base) != rule.network->base)
      return fail("is an IPv6 form of IPv4 addresses: write them as IPv4 (IPv4 destinations are judged as IPv4, "
                  "whatever form a URL gives them)");
    return rule;
  }
  if (parse_ip_host(host))
    return fail("is an address in a legacy form: write it as a dotted quad (such as 127.0.0.1)");
  auto name = normalize_host(host);
  if (name.empty() || !std::all_of(name.begin(), name.end(), is_host_name_char))
    return fail(expected);
  if (std::all_of(name.begin(), name.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }))
    return fail("is neither an address nor a host name");
  rule.host = std::move(name);
  return rule;
}

std::string describe_refusal(const egress_verdict& verdict, std::string_view host) {
  auto shown = verdict.kind == destination_kind::provider_itself
                 ? format_host_port(verdict.address.to_string(), verdict.port)
                 : verdict.address.to_string();
  // Say what a legacy or IPv6 form stands for, or what localhost is: "2130706433 (127.0.0.1) is ...".
  if (!host.empty() && host != verdict.address.to_string())
    shown = std::string{host} + " (" + shown + ")";
  return shown + " is " + kind_text(verdict.kind);
}

egress_policy::egress_policy(std::vector<egress_rule> rules, std::vector<provider_endpoint> provider)
  : rules_(std::move(rules)), provider_(std::move(provider)) {
  for (auto& endpoint : provider_)
    endpoint.addresses.base = unwrap(endpoint.addresses.base);
}

egress_verdict egress_policy::check_connection(std::string_view host, const ip_address& address,
                                               std::uint16_t port) const {
  egress_verdict verdict;
  verdict.address = unwrap(address);
  verdict.port = port;
  if (is_provider(verdict.address, port)) {
    verdict.kind = destination_kind::provider_itself;
    verdict.allowed = exact_rule_allows(verdict.address, port);
    return verdict;
  }
  if (is_metadata(verdict.address)) {
    verdict.kind = destination_kind::cloud_metadata;
    verdict.allowed = exact_rule_allows(verdict.address, std::nullopt)
                      || exact_rule_allows(verdict.address, port);
    return verdict;
  }
  verdict.kind = classify_address(verdict.address);
  verdict.allowed = verdict.kind == destination_kind::global || rule_allows(host, verdict.address, port);
  return verdict;
}

std::optional<egress_verdict> egress_policy::check_host(std::string_view host, std::uint16_t port) const {
  if (auto address = parse_ip_host(host))
    return check_connection(host, *address, port);
  if (is_localhost_name(normalize_host(host)))
    return check_connection(host, ip_address::v4(loopback_v4), port);
  return std::nullopt;
}

bool egress_policy::rule_allows(std::string_view host, const ip_address& address, std::uint16_t port) const {
  auto name = normalize_host(host);
  return std::any_of(rules_.begin(), rules_.end(), [&](const egress_rule& rule) {
    if (rule.port && *rule.port != port)
      return false;
    if (rule.network)
      return rule.network->contains(address);
    return rule.host == name;
  });
}

bool egress_policy::exact_rule_allows(const ip_address& address, std::optional<std::uint16_t> port) const {
  return std::any_of(rules_.begin(), rules_.end(), [&](const egress_rule& rule) {
    return rule.network && rule.network->is_single_address() && rule.network->base == address && rule.port == port;
  });
}

bool egress_policy::is_provider(const ip_address& address, std::uint16_t port) const {
  return std::any_of(provider_.begin(), provider_.end(), [&](const provider_endpoint& endpoint) {
    return endpoint.port == port && endpoint.addresses.contains(address);
  });
}

destination_kind classify_address(const ip_address& address) {
  auto target = unwrap(address);
  static const ip_network six_to_four = network_of("2002::/16");
  if (six_to_four.contains(target)) {
    // A 6to4 address is routed through the IPv4 address it embeds.
    return classify_address(target.embedded_v4(six_to_four_offset));
  }
  if (is_metadata(target))
    return destination_kind::cloud_metadata;
  for (const auto& block : special_blocks())
    if (block.network.contains(target))
      return block.kind;
  return destination_kind::global;
}

std::vector<provider_endpoint> provider_endpoints(const std::vector<ip_address>& listen, std::uint16_t port,
                                                  const std::vector<ip_address>& interfaces) {
  std::vector<provider_endpoint> endpoints;
  auto add = [&](const ip_network& network) { endpoints.push_back({network, port}); };
  auto single = [](const ip_address& address) {
    return ip_network{address, static_cast<unsigned>(address.size() * 8)};
  };
  bool everywhere = false;
  for (const auto& address : listen) {
    add(single(unwrap(address)));
    everywhere = everywhere || classify_address(address) == destination_kind::unspecified;
  }
  for (auto text : {"0.0.0.0", "::"})
    add(network_of(text));
  if (everywhere) {
    for (auto text : {"127.0.0.0/8", "::1"})
      add(network_of(text));
    for (const auto& address : interfaces)
      add(single(unwrap(address)));
  }
  return endpoints;
}

std::optional<field_error> check_url_egress(const egress_policy& policy, const url& where, std::string_view field) {
  auto verdict = policy.check_host(where.host, where.port);
  if (!verdict || verdict->allowed)
    return std::nullopt;
  return field_error{std::string{field},
                     std::string{egress_refusal_text} + ": " + describe_refusal(*verdict, where.host)};
}

} // namespace feedrouter

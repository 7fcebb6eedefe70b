// Fuzzes the egress policy's text parsing: a URL host as a resolver would read it, standard addresses, address
// blocks and --allow-egress rules. The address parsers are checked against the C library's own (inet_pton,
// inet_aton), since the policy is only as good as its agreement with what the resolver will connect to.
//
// Input: the text, used whole by every parser.

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/egress_policy.hpp"
#include "core/ip_address.hpp"

namespace {

using feedrouter::ip_address;

/// Returns whether `address` holds exactly the `size` bytes at `bytes`.
bool same_bytes(const ip_address& address, const void* bytes, std::size_t size) {
  if (address.size() != size)
    return false;
  const auto* expected = static_cast<const std::uint8_t*>(bytes);
  for (std::size_t i = 0; i < size; ++i)
    if (address[i] != expected[i])
      return false;
  return true;
}

/// inet_pton must agree with parse_ip_address on every text: same acceptance, same bytes.
void check_standard_form(const std::string& text) {
  auto mine = feedrouter::parse_ip_address(text);
  std::array<std::uint8_t, 16> theirs{};
  auto family = text.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  auto accepted = inet_pton(family, text.c_str(), theirs.data()) == 1;
  if (accepted != mine.has_value())
    __builtin_trap();
  if (mine && !same_bytes(*mine, theirs.data(), family == AF_INET6 ? 16 : 4))
    __builtin_trap();
  if (mine) {
    // What to_string writes reads back as the same address.
    auto again = feedrouter::parse_ip_address(mine->to_string());
    if (!again || *again != *mine)
      __builtin_trap();
  }
}

/// inet_aton must agree with parse_ip_host on IPv4 hosts. inet_aton also takes anything after white space, which no
/// URL host holds: such texts are left out.
void check_legacy_form(const std::string& text) {
  if (text.find(':') != std::string::npos)
    return;
  if (std::any_of(text.begin(), text.end(), [](unsigned char c) { return std::isspace(c) != 0; }))
    return;
  auto mine = feedrouter::parse_ip_host(text);
  in_addr theirs{};
  auto accepted = inet_aton(text.c_str(), &theirs) != 0;
  if (accepted != mine.has_value())
    __builtin_trap();
  if (mine && !same_bytes(*mine, &theirs.s_addr, 4))
    __builtin_trap();
}

void check_network(const std::string& text) {
  auto network = feedrouter::parse_ip_network(text);
  if (!network)
    return;
  if (!network->contains(network->base))
    __builtin_trap();
  auto again = feedrouter::parse_ip_network(network->to_string());
  if (!again || again->base != network->base || again->prefix_length != network->prefix_length)
    __builtin_trap();
}

void check_policy(const std::string& text) {
  auto rule = feedrouter::parse_egress_rule(text, "--allow-egress");
  if (rule && rule->network && !rule->network->contains(rule->network->base))
    __builtin_trap();
  std::vector<feedrouter::egress_rule> rules;
  if (rule)
    rules.push_back(*rule);
  feedrouter::egress_policy policy{std::move(rules), {}};
  constexpr std::uint16_t port = 443;
  auto verdict = policy.check_host(text, port);
  // An address the early check judges gets the same verdict when it is connected to.
  if (auto address = feedrouter::parse_ip_host(text)) {
    if (!verdict)
      __builtin_trap();
    auto connected = policy.check_connection(text, *address, port);
    if (connected.allowed != verdict->allowed || connected.kind != verdict->kind)
      __builtin_trap();
  }
  if (verdict && !verdict->allowed)
    (void)feedrouter::describe_refusal(*verdict, text);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input{reinterpret_cast<const char*>(data), size};
  // The C parsers stop at a NUL byte; a URL host never holds one.
  if (input.find('\0') != std::string_view::npos)
    return 0;
  std::string text{input};
  check_standard_form(text);
  check_legacy_form(text);
  check_network(text);
  check_policy(text);
  return 0;
}

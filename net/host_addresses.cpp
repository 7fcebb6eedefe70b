#include "net/host_addresses.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <optional>

#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace feedrouter {

namespace {

/// Returns the address in `sa`, or nullopt for a family other than IPv4 and IPv6 (packet sockets, ...).
std::optional<ip_address> address_of(const sockaddr* sa) {
  if (sa == nullptr)
    return std::nullopt;
  if (sa->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, sa, sizeof in);
    std::array<std::uint8_t, ip_address::v4_size> bytes{};
    std::memcpy(bytes.data(), &in.sin_addr, bytes.size());
    return ip_address::v4(bytes);
  }
  if (sa->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, sa, sizeof in6);
    std::array<std::uint8_t, ip_address::v6_size> bytes{};
    std::memcpy(bytes.data(), &in6.sin6_addr, bytes.size());
    return ip_address::v6(bytes);
  }
  return std::nullopt;
}

void add_unique(std::vector<ip_address>& addresses, const ip_address& address) {
  if (std::find(addresses.begin(), addresses.end(), address) == addresses.end())
    addresses.push_back(address);
}

} // namespace

std::vector<ip_address> interface_addresses() {
  std::vector<ip_address> result;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0)
    return result;
  std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> owner{list, &freeifaddrs};
  for (auto* entry = list; entry != nullptr; entry = entry->ifa_next)
    if (auto address = address_of(entry->ifa_addr))
      add_unique(result, *address);
  return result;
}

std::vector<ip_address> resolve_host_addresses(const std::string& host) {
  std::vector<ip_address> result;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &list) != 0)
    return result;
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner{list, &freeaddrinfo};
  for (auto* entry = list; entry != nullptr; entry = entry->ai_next)
    if (auto address = address_of(entry->ai_addr))
      add_unique(result, *address);
  return result;
}

} // namespace feedrouter

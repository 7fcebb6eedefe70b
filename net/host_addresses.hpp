#pragma once

#include <string>
#include <vector>

#include "core/ip_address.hpp"

namespace feedrouter {

/// Returns the addresses of this host's network interfaces (getifaddrs), loopback included; empty when they cannot be
/// read. For start-up only: it asks the kernel, which is quick but not free.
std::vector<ip_address> interface_addresses();

/// Returns the addresses `host` resolves to (the address itself for an address); empty when it does not resolve.
/// Blocks on DNS: for start-up only.
std::vector<ip_address> resolve_host_addresses(const std::string& host);

} // namespace feedrouter

#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace feedrouter {

/// An IPv4 or IPv6 address: the bytes a socket connects to, most significant first. Needs no socket library, so that
/// core/ can judge addresses (core/egress_policy.hpp) and the network layer only converts to it.
class ip_address {
public:
  static constexpr std::size_t v4_size = 4;
  static constexpr std::size_t v6_size = 16;

  /// The IPv4 address 0.0.0.0.
  ip_address() = default;

  /// Returns the IPv4 address with these bytes (127, 0, 0, 1 is 127.0.0.1).
  static ip_address v4(const std::array<std::uint8_t, v4_size>& bytes) noexcept;

  /// Returns the IPv4 address whose 32-bit value is `value` (0x7f000001 is 127.0.0.1).
  static ip_address v4(std::uint32_t value) noexcept;

  /// Returns the IPv6 address with these bytes.
  static ip_address v6(const std::array<std::uint8_t, v6_size>& bytes) noexcept;

  bool is_v4() const noexcept {
    return size_ == v4_size;
  }

  /// Returns 4 for IPv4, 16 for IPv6.
  std::size_t size() const noexcept {
    return size_;
  }

  /// Returns byte `i` (0 is the most significant); requires i < size().
  std::uint8_t operator[](std::size_t i) const noexcept {
    return bytes_[i];
  }

  /// Returns the address as a 32-bit value; requires is_v4().
  std::uint32_t v4_value() const noexcept;

  /// Returns the IPv4 address held in bytes [offset, offset + 4) of this IPv6 address; requires !is_v4().
  ip_address embedded_v4(std::size_t offset) const noexcept;

  /// Returns the dotted quad, or the IPv6 text of RFC 5952 (lower case, the longest run of two or more zero groups as
  /// "::", an IPv4-mapped address as ::ffff:a.b.c.d).
  std::string to_string() const;

  friend bool operator==(const ip_address& x, const ip_address& y) noexcept {
    return x.size_ == y.size_ && x.bytes_ == y.bytes_;
  }

  friend bool operator!=(const ip_address& x, const ip_address& y) noexcept {
    return !(x == y);
  }

private:
  std::array<std::uint8_t, v6_size> bytes_{}; ///< an IPv4 address uses the first four
  std::size_t size_ = v4_size;
};

/// Parses an address in its standard form, as inet_pton reads it: a dotted quad of four decimal numbers up to 255
/// without leading zeros, or IPv6 text (RFC 4291 section 2.2, an IPv4 tail included) without brackets or zone.
std::optional<ip_address> parse_ip_address(std::string_view text);

/// Parses `host` (a URL's host, without brackets) the way a resolver takes it as an address: the standard forms, and
/// the legacy IPv4 forms that getaddrinfo also accepts (inet_aton): one to four parts, each decimal, octal (a leading
/// 0) or hex (0x), the last one filling the remaining bytes, so that "2130706433", "127.1", "0x7f.1" and
/// "0177.0.0.1" all mean 127.0.0.1. Returns nullopt for a host name.
std::optional<ip_address> parse_ip_host(std::string_view host);

/// An address block: the addresses of one family whose first `prefix_length` bits equal those of `base`.
struct ip_network {
  ip_address base;
  unsigned prefix_length = 0;

  /// Returns whether `address` is in this block (never for an address of the other family).
  bool contains(const ip_address& address) const noexcept;

  /// Returns whether the block holds exactly one address.
  bool is_single_address() const noexcept {
    return prefix_length == base.size() * 8;
  }

  /// Returns "base/prefix_length".
  std::string to_string() const;
};

/// Parses "ADDRESS/PREFIX" (ADDRESS in standard form, PREFIX a decimal number up to 32 or 128) or a bare ADDRESS
/// (the block of that one address). Bits of ADDRESS beyond the prefix must be zero, so that a typo such as
/// "10.1.0.0/8" is not silently taken as 10.0.0.0/8.
std::optional<ip_network> parse_ip_network(std::string_view text);

} // namespace feedrouter

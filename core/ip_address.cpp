#include "core/ip_address.hpp"

#include <algorithm>

namespace feedrouter {

namespace {

constexpr unsigned bits_per_byte = 8;
constexpr unsigned max_octet = 255;
constexpr std::uint32_t max_v4_value = 0xffffffff;
constexpr std::size_t v6_groups = 8;
constexpr std::size_t max_group_digits = 4;
constexpr std::size_t max_prefix_digits = 3;
/// The largest last part of a legacy IPv4 address with 1, 2, 3 or 4 parts: it fills the bytes the others left.
constexpr std::array<std::uint32_t, 4> max_last_part = {0xffffffff, 0xffffff, 0xffff, 0xff};

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

int hex_value(char c) noexcept {
  if (is_digit(c))
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Reads a strict dotted quad (inet_pton's IPv4 form) into `out`.
bool parse_dotted_quad(std::string_view text, std::uint8_t* out) {
  std::size_t octets = 0;
  while (true) {
    if (octets == ip_address::v4_size || text.empty() || !is_digit(text.front()))
      return false;
    // "01" is refused: leading zeros are octal elsewhere, and the standard form has none.
    if (text.front() == '0' && text.size() > 1 && is_digit(text[1]))
      return false;
    unsigned value = 0;
    while (!text.empty() && is_digit(text.front())) {
      value = value * 10 + static_cast<unsigned>(text.front() - '0');
      if (value > max_octet)
        return false;
      text.remove_prefix(1);
    }
    out[octets++] = static_cast<std::uint8_t>(value);
    if (text.empty())
      return octets == ip_address::v4_size;
    if (text.front() != '.')
      return false;
    text.remove_prefix(1);
  }
}

/// Reads IPv6 text as inet_pton does: hex groups of at most four digits, at most one "::" standing for one or more
/// zero groups, and an optional dotted quad as the last 32 bits.
std::optional<ip_address> parse_v6(std::string_view text) {
  std::array<std::uint8_t, ip_address::v6_size> bytes{};
  std::size_t filled = 0;
  std::optional<std::size_t> gap; // where "::" stands, in bytes
  if (text.empty())
    return std::nullopt;
  if (text.front() == ':') {
    if (text.size() < 2 || text[1] != ':')
      return std::nullopt;
    gap = 0;
    text.remove_prefix(2);
  }
  while (!text.empty()) {
    auto group_end = text.find(':');
    auto group = text.substr(0, group_end);
    if (group.find('.') != std::string_view::npos) {
      // A dotted quad ends the address.
      if (group_end != std::string_view::npos || filled + ip_address::v4_size > ip_address::v6_size
          || !parse_dotted_quad(group, bytes.data() + filled))
        return std::nullopt;
      filled += ip_address::v4_size;
      text = {};
      break;
    }
    if (group.empty() || group.size() > max_group_digits || filled + 2 > ip_address::v6_size)
      return std::nullopt;
    unsigned value = 0;
    for (char c : group) {
      auto digit = hex_value(c);
      if (digit < 0)
        return std::nullopt;
      value = value * 16 + static_cast<unsigned>(digit);
    }
    bytes[filled++] = static_cast<std::uint8_t>(value >> bits_per_byte);
    bytes[filled++] = static_cast<std::uint8_t>(value & max_octet);
    if (group_end == std::string_view::npos)
      break;
    text.remove_prefix(group_end + 1);
    if (text.empty())
      return std::nullopt; // a single trailing ':'
    if (text.front() == ':') {
      if (gap)
        return std::nullopt;
      gap = filled;
      text.remove_prefix(1);
    }
  }
  if (gap) {
    // "::" stands for at least one group.
    if (filled == ip_address::v6_size)
      return std::nullopt;
    auto tail = filled - *gap;
    std::move_backward(bytes.begin() + static_cast<std::ptrdiff_t>(*gap),
                       bytes.begin() + static_cast<std::ptrdiff_t>(filled), bytes.end());
    std::fill_n(bytes.begin() + static_cast<std::ptrdiff_t>(*gap), ip_address::v6_size - tail - *gap, 0);
    filled = ip_address::v6_size;
  }
  if (filled != ip_address::v6_size)
    return std::nullopt;
  return ip_address::v6(bytes);
}

/// Reads one part of a legacy IPv4 address as strtoul with base 0 does: 0x-hex, 0-octal or decimal, at least one
/// digit, up to 0xffffffff.
std::optional<std::uint32_t> parse_legacy_part(std::string_view part) {
  if (part.empty() || !is_digit(part.front()))
    return std::nullopt;
  unsigned base = 10;
  if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
    base = 16;
    part.remove_prefix(2);
    if (part.empty())
      return std::nullopt;
  } else if (part.front() == '0') {
    base = 8;
  }
  std::uint64_t value = 0;
  for (char c : part) {
    auto digit = hex_value(c);
    if (digit < 0 || static_cast<unsigned>(digit) >= base)
      return std::nullopt;
    value = value * base + static_cast<unsigned>(digit);
    if (value > max_v4_value)
      return std::nullopt;
  }
  return static_cast<std::uint32_t>(value);
}

/// Reads the inet_aton forms: "a.b.c.d", "a.b.c" (c 16 bits), "a.b" (b 24 bits), "a" (32 bits).
std::optional<ip_address> parse_legacy_v4(std::string_view text) {
  std::array<std::uint32_t, ip_address::v4_size> parts{};
  std::size_t count = 0;
  while (true) {
    if (count == parts.size())
      return std::nullopt;
    auto dot = text.find('.');
    auto part = parse_legacy_part(text.substr(0, dot));
    if (!part)
      return std::nullopt;
    parts[count++] = *part;
    if (dot == std::string_view::npos)
      break;
    text.remove_prefix(dot + 1);
  }
  std::uint32_t value = 0;
  for (std::size_t i = 0; i + 1 < count; ++i) {
    if (parts[i] > max_octet)
      return std::nullopt;
    value |= parts[i] << (bits_per_byte * (3 - i));
  }
  if (parts[count - 1] > max_last_part[count - 1])
    return std::nullopt;
  return ip_address::v4(value | parts[count - 1]);
}

void append_hex_group(std::string& out, unsigned group) {
  static constexpr char digits[] = "0123456789abcdef";
  bool started = false;
  for (int shift = 12; shift >= 0; shift -= 4) {
    auto digit = (group >> static_cast<unsigned>(shift)) & 0xfU;
    if (digit != 0 || started || shift == 0) {
      out += digits[digit];
      started = true;
    }
  }
}

} // namespace

ip_address ip_address::v4(const std::array<std::uint8_t, v4_size>& bytes) noexcept {
  ip_address result;
  std::copy(bytes.begin(), bytes.end(), result.bytes_.begin());
  result.size_ = v4_size;
  return result;
}

ip_address ip_address::v4(std::uint32_t value) noexcept {
  return v4({static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
             static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)});
}

ip_address ip_address::v6(const std::array<std::uint8_t, v6_size>& bytes) noexcept {
  ip_address result;
  result.bytes_ = bytes;
  result.size_ = v6_size;
  return result;
}

std::uint32_t ip_address::v4_value() const noexcept {
  return static_cast<std::uint32_t>(bytes_[0]) << 24 | static_cast<std::uint32_t>(bytes_[1]) << 16
         | static_cast<std::uint32_t>(bytes_[2]) << 8 | static_cast<std::uint32_t>(bytes_[3]);
}

ip_address ip_address::embedded_v4(std::size_t offset) const noexcept {
  return v4({bytes_[offset], bytes_[offset + 1], bytes_[offset + 2], bytes_[offset + 3]});
}

std::string ip_address::to_string() const {
  std::string out;
  if (is_v4()) {
    for (std::size_t i = 0; i < v4_size; ++i) {
      if (i > 0)
        out += '.';
      out += std::to_string(bytes_[i]);
    }
    return out;
  }
  // RFC 5952 section 5: an IPv4-mapped address keeps its dotted quad.
  constexpr std::array<std::uint8_t, 12> mapped_prefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(mapped_prefix.begin(), mapped_prefix.end(), bytes_.begin()))
    return "::ffff:" + embedded_v4(mapped_prefix.size()).to_string();
  std::array<unsigned, v6_groups> groups{};
  for (std::size_t i = 0; i < v6_groups; ++i)
    groups[i] = static_cast<unsigned>(bytes_[2 * i]) << bits_per_byte | bytes_[2 * i + 1];
  // The longest run of two or more zero groups, the first one on a tie, becomes "::".
  std::size_t best_start = v6_groups;
  std::size_t best_length = 1;
  for (std::size_t i = 0; i < v6_groups;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    auto j = i;
    while (j < v6_groups && groups[j] == 0)
      ++j;
    if (j - i > best_length) {
      best_start = i;
      best_length = j - i;
    }
    i = j;
  }
  for (std::size_t i = 0; i < v6_groups; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_length - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':')
      out += ':';
    append_hex_group(out, groups[i]);
  }
  return out;
}

std::optional<ip_address> parse_ip_address(std::string_view text) {
  if (text.find(':') != std::string_view::npos)
    return parse_v6(text);
  std::array<std::uint8_t, ip_address::v4_size> bytes{};
  if (!parse_dotted_quad(text, bytes.data()))
    return std::nullopt;
  return ip_address::v4(bytes);
}

std::optional<ip_address> parse_ip_host(std::string_view host) {
  if (host.find(':') != std::string_view::npos)
    return parse_v6(host);
  return parse_legacy_v4(host);
}

bool ip_network::contains(const ip_address& address) const noexcept {
  if (address.size() != base.size())
    return false;
  auto full_bytes = prefix_length / bits_per_byte;
  for (std::size_t i = 0; i < full_bytes; ++i)
    if (address[i] != base[i])
      return false;
  auto rest = prefix_length % bits_per_byte;
  if (rest == 0)
    return true;
  auto mask = static_cast<std::uint8_t>(max_octet << (bits_per_byte - rest));
  return (address[full_bytes] & mask) == (base[full_bytes] & mask);
}

std::string ip_network::to_string() const {
  return base.to_string() + '/' + std::to_string(prefix_length);
}

std::optional<ip_network> parse_ip_network(std::string_view text) {
  auto slash = text.find('/');
  auto base = parse_ip_address(text.substr(0, slash));
  if (!base)
    return std::nullopt;
  auto max_prefix = static_cast<unsigned>(base->size() * bits_per_byte);
  if (slash == std::string_view::npos)
    return ip_network{*base, max_prefix};
  auto digits = text.substr(slash + 1);
  if (digits.empty() || digits.size() > max_prefix_digits || !std::all_of(digits.begin(), digits.end(), is_digit)
      || (digits.front() == '0' && digits.size() > 1))
    return std::nullopt;
  unsigned prefix = 0;
  for (char c : digits)
    prefix = prefix * 10 + static_cast<unsigned>(c - '0');
  if (prefix > max_prefix)
    return std::nullopt;
  ip_network network{*base, prefix};
  // Every bit beyond the prefix must be zero: the block contains its base, and no other base of the same length.
  for (std::size_t i = prefix / bits_per_byte; i < base->size(); ++i) {
    auto kept = i == prefix / bits_per_byte ? prefix % bits_per_byte : 0;
    auto host_mask = static_cast<std::uint8_t>(max_octet >> kept);
    if (((*base)[i] & host_mask) != 0)
      return std::nullopt;
  }
  return network;
}

} // namespace feedrouter

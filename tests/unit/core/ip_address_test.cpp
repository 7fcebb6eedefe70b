#include "core/ip_address.hpp"

#include <string>
#include <string_view>

#include <catch2/catch.hpp>

using namespace feedrouter;

namespace {

/// Returns the text of the address `text` parses to in its standard form, or "" when it does not parse.
std::string standard(std::string_view text) {
  auto address = parse_ip_address(text);
  return address ? address->to_string() : std::string{};
}

/// Returns the text of the address a resolver takes `host` for, or "" when it is a name.
std::string as_host(std::string_view host) {
  auto address = parse_ip_host(host);
  return address ? address->to_string() : std::string{};
}

} // namespace

TEST_CASE("dotted quads parse in their standard form only", "[ip_address]") {
  CHECK(standard("127.0.0.1") == "127.0.0.1");
  CHECK(standard("0.0.0.0") == "0.0.0.0");
  CHECK(standard("255.255.255.255") == "255.255.255.255");
  for (std::string_view text : {"", "127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "01.2.3.4", "256.0.0.1",
                                "1.2.3.4.", ".1.2.3", "1..2.3", "1.2.3.4.5", "1.2.3.-4", "1.2.3.4 ", "localhost"}) {
    INFO(text);
    CHECK_FALSE(parse_ip_address(text));
  }
}

TEST_CASE("IPv6 text parses as inet_pton reads it and prints as RFC 5952 writes it", "[ip_address]") {
  CHECK(standard("::") == "::");
  CHECK(standard("::1") == "::1");
  CHECK(standard("0:0:0:0:0:0:0:1") == "::1");
  CHECK(standard("1::") == "1::");
  CHECK(standard("2001:DB8:0:0:1:0:0:1") == "2001:db8::1:0:0:1");
  CHECK(standard("2001:db8:0000:0000:0000:0000:0000:0001") == "2001:db8::1");
  CHECK(standard("1:2:3:4:5:6:7::") == "1:2:3:4:5:6:7:0");
  CHECK(standard("::ffff:127.0.0.1") == "::ffff:127.0.0.1");
  CHECK(standard("::ffff:7f00:1") == "::ffff:127.0.0.1");
  CHECK(standard("64:ff9b::10.0.0.1") == "64:ff9b::a00:1");
  CHECK(standard("fe80::1:2") == "fe80::1:2");
  CHECK(standard("1:0:0:2:0:0:0:3") == "1:0:0:2::3");
  for (std::string_view text : {":", ":::", "1:", ":1", "1:::2", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9",
                                "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "g::", "::1.2.3", "::1.2.3.4:5",
                                "1:2:3:4:5:6:7:1.2.3.4", "::256.0.0.1", "::01.2.3.4", "[::1]", "::1%lo"}) {
    INFO(text);
    CHECK_FALSE(parse_ip_address(text));
  }
}

TEST_CASE("a host in a legacy IPv4 form stands for the address a resolver makes of it", "[ip_address]") {
  CHECK(as_host("2130706433") == "127.0.0.1");
  CHECK(as_host("127.1") == "127.0.0.1");
  CHECK(as_host("127.0.1") == "127.0.0.1");
  CHECK(as_host("0x7f.1") == "127.0.0.1");
  CHECK(as_host("0X7F000001") == "127.0.0.1");
  CHECK(as_host("0177.0.0.1") == "127.0.0.1");
  CHECK(as_host("017700000001") == "127.0.0.1");
  CHECK(as_host("0") == "0.0.0.0");
  CHECK(as_host("169.254.43518") == "169.254.169.254");
  CHECK(as_host("0xa9fea9fe") == "169.254.169.254");
  CHECK(as_host("4294967295") == "255.255.255.255");
  CHECK(as_host("0x00000000000000000000007f.1") == "127.0.0.1");
  CHECK(as_host("[::1]").empty()); // a URL's host comes without brackets
  CHECK(as_host("::1") == "::1");
  for (std::string_view host : {"", "localhost", "4294967296", "256.1", "1.65536.1", "1.2.256.1", "08", "0x", "0x1g",
                                "1.", ".1", "1.2.3.4.5", "127.0.0.1.", "1e3", "example.com", "127.0.0.1.nip.io"}) {
    INFO(host);
    CHECK(as_host(host).empty());
  }
}

TEST_CASE("an IPv4 address is its four bytes", "[ip_address]") {
  auto address = ip_address::v4(0x7f000001);
  CHECK(address.is_v4());
  CHECK(address.size() == 4);
  CHECK(address[0] == 127);
  CHECK(address.v4_value() == 0x7f000001);
  CHECK(address == ip_address::v4({127, 0, 0, 1}));
  CHECK(address != *parse_ip_address("::ffff:127.0.0.1"));
  CHECK(parse_ip_address("::ffff:10.1.2.3")->embedded_v4(12) == ip_address::v4({10, 1, 2, 3}));
}

TEST_CASE("a network contains the addresses of its prefix, of its own family", "[ip_address]") {
  auto ten = parse_ip_network("10.0.0.0/8");
  REQUIRE(ten);
  CHECK(ten->contains(*parse_ip_address("10.255.0.1")));
  CHECK_FALSE(ten->contains(*parse_ip_address("11.0.0.0")));
  CHECK_FALSE(ten->contains(*parse_ip_address("::ffff:10.0.0.1")));
  auto twelve = parse_ip_network("172.16.0.0/12");
  REQUIRE(twelve);
  CHECK(twelve->contains(*parse_ip_address("172.31.255.255")));
  CHECK_FALSE(twelve->contains(*parse_ip_address("172.32.0.0")));
  auto ula = parse_ip_network("fc00::/7");
  REQUIRE(ula);
  CHECK(ula->contains(*parse_ip_address("fdff::1")));
  CHECK_FALSE(ula->contains(*parse_ip_address("fe00::1")));
  auto all = parse_ip_network("0.0.0.0/0");
  REQUIRE(all);
  CHECK(all->contains(*parse_ip_address("203.0.113.9")));
  auto one = parse_ip_network("127.0.0.1");
  REQUIRE(one);
  CHECK(one->prefix_length == 32);
  CHECK(one->is_single_address());
  CHECK(one->to_string() == "127.0.0.1/32");
  CHECK(parse_ip_network("::1")->prefix_length == 128);
}

TEST_CASE("a network with bits after its prefix or a bad prefix is refused", "[ip_address]") {
  for (std::string_view text : {"10.1.0.0/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/08", "10.0.0.0/-1", "::1/64",
                                "::/129", "10/8", "10.0.0.0/8/8", "10.0.0.0/ 8", "/8", "fc00::/1000"}) {
    INFO(text);
    CHECK_FALSE(parse_ip_network(text));
  }
}

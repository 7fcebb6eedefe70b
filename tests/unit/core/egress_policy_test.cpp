#include "core/egress_policy.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

using namespace feedrouter;

namespace {

constexpr std::uint16_t provider_port = 8080;

ip_address address(std::string_view text) {
  auto parsed = parse_ip_address(text);
  INFO(text);
  REQUIRE(parsed);
  return *parsed;
}

egress_rule rule(std::string_view text) {
  auto parsed = parse_egress_rule(text, "--allow-egress");
  INFO(text << ": " << (parsed ? std::string{} : parsed.error().message));
  REQUIRE(parsed);
  return *parsed;
}

/// A policy with `rules`, for a provider listening on 127.0.0.1:8080.
egress_policy policy(const std::vector<std::string_view>& rules = {}) {
  std::vector<egress_rule> parsed;
  for (auto text : rules)
    parsed.push_back(rule(text));
  return egress_policy{std::move(parsed), provider_endpoints({address("127.0.0.1")}, provider_port, {})};
}

/// Returns the verdict on connecting to `text`:`port` for a URL naming it as host.
egress_verdict connect_to(const egress_policy& p, std::string_view text, std::uint16_t port = 80) {
  return p.check_connection(text, address(text), port);
}

} // namespace

TEST_CASE("every special-purpose range is refused by default, with its kind", "[egress_policy]") {
  using k = destination_kind;
  const std::vector<std::pair<std::string_view, destination_kind>> cases = {
    {"0.0.0.0", k::unspecified},       {"0.1.2.3", k::unspecified},      {"10.0.0.1", k::private_network},
    {"10.255.255.255", k::private_network}, {"100.64.0.1", k::shared}, {"100.127.255.254", k::shared},
    {"127.0.0.1", k::loopback},        {"127.255.0.9", k::loopback},     {"169.254.0.1", k::link_local},
    {"172.16.0.1", k::private_network}, {"172.31.255.254", k::private_network}, {"192.0.0.8", k::reserved},
    {"192.0.2.1", k::reserved},        {"192.88.99.1", k::reserved},     {"192.168.1.1", k::private_network},
    {"198.18.0.1", k::reserved},       {"198.19.255.1", k::reserved},    {"198.51.100.1", k::reserved},
    {"203.0.113.1", k::reserved},      {"224.0.0.1", k::multicast},      {"239.255.255.250", k::multicast},
    {"240.0.0.1", k::reserved},        {"255.255.255.255", k::broadcast}, {"::", k::unspecified},
    {"::1", k::loopback},              {"fe80::1", k::link_local},       {"febf::1", k::link_local},
    {"fc00::1", k::private_network},   {"fd12:3456::1", k::private_network}, {"fec0::1", k::private_network},
    {"ff02::1", k::multicast},         {"2001:db8::1", k::reserved},     {"2001::1", k::reserved},
    {"100::1", k::reserved},           {"64:ff9b:1::1", k::private_network}, {"3fff::1", k::reserved},
    {"::1:0:0:0", k::reserved},
  };
  auto p = policy();
  for (const auto& [text, kind] : cases) {
    INFO(text);
    CHECK(classify_address(address(text)) == kind);
    auto verdict = connect_to(p, text);
    CHECK_FALSE(verdict.allowed);
    CHECK(verdict.kind == kind);
  }
}

TEST_CASE("global addresses next to the special ranges are allowed", "[egress_policy]") {
  auto p = policy();
  for (std::string_view text : {"1.1.1.1", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
                                "126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255",
                                "172.32.0.0", "192.0.1.0", "192.167.255.255", "192.169.0.0", "198.17.255.255",
                                "198.20.0.0", "223.255.255.255", "2606:4700::1111", "2a00:1450::1", "fbff::1",
                                "fe7f::1", "2002:0808:0808::1", "64:ff9b::808:808"}) {
    INFO(text);
    auto verdict = connect_to(p, text, 443);
    CHECK(verdict.allowed);
    CHECK(verdict.kind == destination_kind::global);
  }
}

TEST_CASE("IPv6 forms that embed an IPv4 address are judged as that address", "[egress_policy]") {
  auto p = policy();
  const std::vector<std::pair<std::string_view, std::string_view>> cases = {
    {"::ffff:127.0.0.1", "127.0.0.1"},     // IPv4-mapped
    {"::ffff:7f00:1", "127.0.0.1"},        // the same, in hex
    {"::127.0.0.1", "127.0.0.1"},          // IPv4-compatible (deprecated)
    {"::ffff:0:10.0.0.1", "10.0.0.1"},     // IPv4-translated
    {"64:ff9b::169.254.169.254", "169.254.169.254"}, // NAT64
    {"::ffff:0.0.0.0", "0.0.0.0"},
    {"::ffff:192.168.0.1", "192.168.0.1"},
  };
  for (const auto& [text, v4] : cases) {
    INFO(text);
    auto verdict = connect_to(p, text);
    CHECK_FALSE(verdict.allowed);
    CHECK(verdict.address == address(v4));
    CHECK(classify_address(address(text)) == classify_address(address(v4)));
  }
  // 6to4 goes through the IPv4 address it embeds.
  CHECK(classify_address(address("2002:7f00:1::1")) == destination_kind::loopback);
  CHECK(classify_address(address("2002:a9fe:a9fe::")) == destination_kind::cloud_metadata);
  CHECK_FALSE(connect_to(p, "2002:c0a8:1::1").allowed);
}

TEST_CASE("cloud metadata addresses are refused in every form", "[egress_policy]") {
  auto p = policy();
  for (std::string_view text : {"169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192",
                                "fd00:ec2::254", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe"}) {
    INFO(text);
    auto verdict = connect_to(p, text);
    CHECK_FALSE(verdict.allowed);
    CHECK(verdict.kind == destination_kind::cloud_metadata);
  }
  for (std::string_view host : {"169.254.43518", "2852039166", "0xa9.0xfe.0xa9.0xfe", "0251.0376.0251.0376"}) {
    INFO(host);
    auto verdict = p.check_host(host, 80);
    REQUIRE(verdict);
    CHECK_FALSE(verdict->allowed);
    CHECK(verdict->kind == destination_kind::cloud_metadata);
  }
}

TEST_CASE("every spelling of loopback is refused before connecting", "[egress_policy]") {
  auto p = policy();
  for (std::string_view host : {"127.0.0.1", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "0x7f.0.0.1",
                                "127.0.0.255", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "::ffff:7f00:1",
                                "localhost", "LOCALHOST", "localhost.", "api.localhost", "0", "0.0.0.0", "::"}) {
    INFO(host);
    auto verdict = p.check_host(host, 5984);
    REQUIRE(verdict);
    CHECK_FALSE(verdict->allowed);
  }
}

TEST_CASE("a host name is left to the check on the address connected to", "[egress_policy]") {
  auto p = policy();
  for (std::string_view host : {"example.com", "couchdb.internal", "127.0.0.1.nip.io", "localhost.example.com",
                                "notlocalhost", "127.0.0.1."})
    CHECK_FALSE(p.check_host(host, 80));
  // The name does not matter once connected: the address does.
  CHECK_FALSE(p.check_connection("db.example.com", address("127.0.0.1"), 5984).allowed);
  CHECK(p.check_connection("db.example.com", address("93.184.216.34"), 5984).allowed);
}

TEST_CASE("an address rule opens its block, on any port or on its own port", "[egress_policy]") {
  auto p = policy({"127.0.0.1", "10.0.0.0/8", "192.168.1.5:5984", "[fd00::5]:6984", "fc00::/7"});
  CHECK(connect_to(p, "127.0.0.1", 5984).allowed);
  CHECK(connect_to(p, "::ffff:127.0.0.1", 5984).allowed);
  CHECK(p.check_host("2130706433", 5984)->allowed);
  CHECK_FALSE(connect_to(p, "127.0.0.2", 5984).allowed);
  CHECK_FALSE(connect_to(p, "::1", 5984).allowed);
  CHECK(connect_to(p, "10.20.30.40", 1).allowed);
  CHECK(connect_to(p, "192.168.1.5", 5984).allowed);
  CHECK_FALSE(connect_to(p, "192.168.1.5", 5985).allowed);
  CHECK_FALSE(connect_to(p, "192.168.1.6", 5984).allowed);
  CHECK(connect_to(p, "fd00::5", 6984).allowed);
  CHECK(connect_to(p, "fd99::1", 80).allowed);
  CHECK_FALSE(connect_to(p, "169.254.1.1", 80).allowed);
}

TEST_CASE("a host rule opens what its name resolves to, when a URL names it", "[egress_policy]") {
  auto p = policy({"couchdb.internal:5984", "localhost"});
  CHECK(p.check_connection("couchdb.internal", address("10.1.2.3"), 5984).allowed);
  CHECK(p.check_connection("COUCHDB.internal.", address("10.1.2.3"), 5984).allowed);
  CHECK_FALSE(p.check_connection("couchdb.internal", address("10.1.2.3"), 5985).allowed);
  CHECK_FALSE(p.check_connection("other.internal", address("10.1.2.3"), 5984).allowed);
  CHECK_FALSE(p.check_connection("10.1.2.3", address("10.1.2.3"), 5984).allowed);
  CHECK(p.check_host("localhost", 5984)->allowed);
  CHECK(p.check_connection("localhost", address("::1"), 5984).allowed);
  CHECK_FALSE(p.check_host("127.0.0.1", 5984)->allowed);
}

TEST_CASE("the provider's own endpoint opens only for a rule naming that address and port", "[egress_policy]") {
  for (auto rules : std::vector<std::vector<std::string_view>>{
         {}, {"127.0.0.1"}, {"127.0.0.0/8"}, {"0.0.0.0/0"}, {"localhost"}, {"localhost:8080"}, {"127.0.0.1:8081"}}) {
    auto p = policy(rules);
    INFO("rules: " << rules.size() << (rules.empty() ? "" : " " + std::string{rules[0]}));
    for (std::string_view host : {"127.0.0.1", "::ffff:127.0.0.1", "0.0.0.0", "::", "localhost"}) {
      INFO(host);
      auto verdict = p.check_host(host, provider_port);
      REQUIRE(verdict);
      CHECK_FALSE(verdict->allowed);
      CHECK(verdict->kind == destination_kind::provider_itself);
    }
  }
  CHECK(policy({"127.0.0.1"}).check_host("127.0.0.1", provider_port + 1)->allowed);
  auto opened = policy({"127.0.0.1:8080"});
  CHECK(opened.check_host("127.0.0.1", provider_port)->allowed);
  CHECK(opened.check_host("::ffff:127.0.0.1", provider_port)->allowed);
  CHECK_FALSE(opened.check_host("0.0.0.0", provider_port)->allowed);
}

TEST_CASE("a metadata address opens only for a rule naming that one address", "[egress_policy]") {
  for (auto wide : {"169.254.0.0/16", "100.64.0.0/10", "0.0.0.0/0", "metadata.google.internal"}) {
    INFO(wide);
    auto p = policy({wide});
    CHECK_FALSE(connect_to(p, "169.254.169.254").allowed);
    CHECK_FALSE(connect_to(p, "100.100.100.200").allowed);
    CHECK_FALSE(p.check_connection("metadata.google.internal", address("169.254.169.254"), 80).allowed);
  }
  CHECK(policy({"169.254.0.0/16"}).check_connection("x", address("169.254.1.1"), 80).allowed);
  CHECK(connect_to(policy({"169.254.169.254"}), "169.254.169.254").allowed);
  CHECK(connect_to(policy({"169.254.169.254:80"}), "169.254.169.254", 80).allowed);
  CHECK_FALSE(connect_to(policy({"169.254.169.254:80"}), "169.254.169.254", 8080).allowed);
}

TEST_CASE("a provider listening on every address is protected at each of them", "[egress_policy]") {
  auto endpoints = provider_endpoints({address("0.0.0.0")}, provider_port, {address("10.0.0.7"), address("fd00::7")});
  egress_policy p{{rule("0.0.0.0/0"), rule("::/0")}, std::move(endpoints)};
  for (std::string_view text : {"10.0.0.7", "fd00::7", "127.0.0.1", "127.3.2.1", "::1", "0.0.0.0", "::"}) {
    INFO(text);
    CHECK(connect_to(p, text, provider_port).kind == destination_kind::provider_itself);
    CHECK_FALSE(connect_to(p, text, provider_port).allowed);
    CHECK(connect_to(p, text, provider_port + 1).allowed);
  }
  CHECK(connect_to(p, "10.0.0.8", provider_port).allowed);
}

TEST_CASE("allow rules parse in every documented form", "[egress_policy]") {
  auto network = rule("10.0.0.0/8");
  REQUIRE(network.network);
  CHECK(network.network->to_string() == "10.0.0.0/8");
  CHECK_FALSE(network.port);
  CHECK(network.text == "10.0.0.0/8");
  auto single = rule("127.0.0.1:5984");
  REQUIRE(single.network);
  CHECK(single.network->is_single_address());
  CHECK(single.port == 5984);
  auto v6 = rule("[::1]:5984");
  REQUIRE(v6.network);
  CHECK(v6.network->to_string() == "::1/128");
  CHECK(v6.port == 5984);
  CHECK(rule("[::1]").network->prefix_length == 128);
  CHECK(rule("fd00::/8").network->to_string() == "fd00::/8");
  auto host = rule("CouchDB.Internal.:6984");
  CHECK_FALSE(host.network);
  CHECK(host.host == "couchdb.internal");
  CHECK(host.port == 6984);
  CHECK(rule("localhost").host == "localhost");
}

TEST_CASE("malformed allow rules are refused, naming the flag and the value", "[egress_policy]") {
  for (std::string_view text : {"", ":", "127.1", "2130706433", "10.1.0.0/8", "10.0.0.0/8:80", "10.0.0.0/33",
                                "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:", "127.0.0.1:x", "[::1", "[::1]x",
                                "[127.0.0.1]:80", "[fd00::/8]:80", "::ffff:127.0.0.1", "64:ff9b::/96", "host name",
                                "host/x", "a:b:c", "1.2.3.4.5", "db.internal:80:90", "exa$mple"}) {
    INFO(text);
    auto parsed = parse_egress_rule(text, "--allow-egress");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().field == "--allow-egress");
    CHECK(parsed.error().message.find("'" + std::string{text} + "'") == 0);
  }
}

TEST_CASE("a URL refused before connecting names its field and says what the host is", "[egress_policy]") {
  auto p = policy();
  auto check = [&](std::string_view text) {
    auto where = parse_url(text, "url");
    REQUIRE(where);
    return check_url_egress(p, *where, "url");
  };
  auto loopback = check("http://2130706433:5984/db");
  REQUIRE(loopback);
  CHECK(loopback->field == "url");
  CHECK(loopback->message == "not allowed by the egress policy: 2130706433 (127.0.0.1) is a loopback address");
  auto literal = check("http://10.0.0.1/");
  REQUIRE(literal);
  CHECK(literal->message == "not allowed by the egress policy: 10.0.0.1 is a private address");
  auto mapped = check("http://[::ffff:169.254.169.254]/latest/meta-data/");
  REQUIRE(mapped);
  CHECK(mapped->message
        == "not allowed by the egress policy: ::ffff:169.254.169.254 (169.254.169.254) is a cloud metadata address");
  auto itself = check("http://localhost:8080/metrics");
  REQUIRE(itself);
  CHECK(itself->message == "not allowed by the egress policy: localhost (127.0.0.1:8080) is this provider's own "
                           "address");
  CHECK_FALSE(check("https://example.com/feed.json"));
  CHECK_FALSE(check("http://93.184.216.34/"));
}
